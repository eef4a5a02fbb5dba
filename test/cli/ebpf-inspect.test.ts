// `kproxy rules --proxy-mode ebpf` and `kproxy trace --proxy-mode ebpf` end to end on the
// trace fixture: the decoded maps, and traces answered from the same maps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TraceJSON } from '../../src/trace/result.js';
import { kproxy } from './run-kproxy.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/trace');
const common = ['--proxy-mode', 'ebpf', '--manifests', FIXTURE, '--hostname-override', 'test-node', '--cluster-cidr', '10.0.0.0/8'];

async function traceJSON(dst: string, dport: number, protocol = 'tcp'): Promise<TraceJSON> {
  const r = await kproxy(['trace', ...common, '--src', '10.0.1.5', '--dst', dst, '--dport', String(dport), '--protocol', protocol, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as TraceJSON;
}

describe('ebpf inspection', () => {
  it('rules prints each Service with its slots and weights, then the nftables part for the NodePort', async () => {
    const r = await kproxy(['rules', ...common]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^service 10\.96\.0\.10:80\/TCP shop\/web:http svc_id \d+ set \d+ count 3 affinity ClientIP 10800s\n {2}slot 0 10\.0\.1\.1:8080 weight 1\n {2}slot 1 10\.0\.2\.1:8080 weight 1\n {2}slot 2 10\.0\.3\.1:8080 weight 1$/m,
    );
    assert.match(r.stdout, /^service 10\.96\.0\.20:80\/TCP shop\/empty:http .*count 0\n {2}no backends: connect\(\) fails with ECONNREFUSED$/m);
    const nft = r.stdout.slice(r.stdout.indexOf('# NodePort'));
    assert.match(nft, /service-nodeports/);
    assert.match(nft, /30080/);
    assert.ok(!nft.includes('10.96.0.20'), 'the ClusterIP-only Service has no nftables rule');
  });

  it('trace: a ClusterIP answered from the maps with exact probabilities; no endpoints → REJECT', async () => {
    const j = await traceJSON('10.96.0.10', 80);
    assert.equal(j.verdict, 'DNAT');
    assert.deepEqual(
      j.endpoints.map((e) => [`${e.ip}:${e.port}`, e.probability]),
      [
        ['10.0.1.1:8080', 1 / 3],
        ['10.0.2.1:8080', 1 / 3],
        ['10.0.3.1:8080', 1 / 3],
      ],
    );
    assert.equal(j.masquerade, false);
    assert.equal(j.path[0].table, 'bpf');
    assert.equal(j.path[0].chain, 'kproxy_conn4');
    assert.match(j.path[0].rule, /^services\[10\.96\.0\.10:80\/TCP\] -> set \d+ count 3$/);
    const none = await traceJSON('10.96.0.20', 80);
    assert.equal(none.verdict, 'REJECT');
    assert.deepEqual(none.endpoints, []);
  });

  it('trace: a ClusterIP on a port the Service does not have is refused; an address that is no ClusterIP and the NodePort go through nftables', async () => {
    const other = await traceJSON('10.96.0.10', 81);
    assert.equal(other.verdict, 'REJECT');
    assert.match(other.path[0].rule, /^services\[10\.96\.0\.10:0\/ANY\]/);
    const elsewhere = await traceJSON('10.96.0.99', 80);
    assert.ok(elsewhere.path.every((p) => p.table !== 'bpf'));
    const np = await traceJSON('192.168.0.2', 30080);
    assert.equal(np.verdict, 'DNAT');
    assert.ok(np.path.every((p) => p.table === 'ip kproxy'));
    assert.equal(np.endpoints.length, 3);
  });
});
