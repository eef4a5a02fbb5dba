// `kproxy trace` end to end: the real CLI on a manifests folder, its JSON contract and its story.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TraceJSON } from '../../src/trace/result.js';
import { kproxy } from './run-kproxy.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/trace');

const base = ['trace', '--proxy-mode', 'nftables', '--manifests', FIXTURE, '--hostname-override', 'test-node', '--cluster-cidr', '10.0.0.0/8'];

describe('kproxy trace', () => {
  it('prints the JSON contract: verdict, endpoints with exact probabilities, masquerade, path', async () => {
    const r = await kproxy([...base, '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', '80', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as TraceJSON;
    assert.deepEqual(Object.keys(j), ['verdict', 'endpoints', 'masquerade', 'path']);
    assert.equal(j.verdict, 'DNAT');
    assert.deepEqual(j.endpoints.map((e) => `${e.ip}:${e.port}`).sort(), ['10.0.1.1:8080', '10.0.2.1:8080', '10.0.3.1:8080']);
    for (const e of j.endpoints) assert.deepEqual(Object.keys(e), ['ip', 'port', 'probability']);
    assert.ok(Math.abs(j.endpoints.reduce((s, e) => s + e.probability, 0) - 1) < 1e-12);
    assert.equal(j.masquerade, false, 'pod to ClusterIP is not masqueraded');
    assert.ok(j.path.length > 0 && j.path.every((p) => p.table === 'ip kproxy' && p.chain && p.rule));
  });

  it('tells the story, with affinity as first-connection semantics', async () => {
    const r = await kproxy([...base, '--src', '203.0.113.7', '--dst', '192.168.0.2', '--dport', '30080']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /TCP 203\.0\.113\.7 → 192\.168\.0\.2:30080: the first packet of a new connection/);
    assert.match(r.stdout, /prerouting hook/);
    assert.match(r.stdout, /first connection of this client \(no affinity entry yet\)/);
    assert.match(r.stdout, /probability 1\/3 \(33\.33%\)/);
    assert.match(r.stdout, /masqueraded: yes/);
    assert.match(r.stdout, /Notes:\n {2}- .*session affinity/);
  });

  it('says when no rule decides (NONE) and when a Service has no endpoints (REJECT)', async () => {
    const none = await kproxy([...base, '--src', '10.0.0.5', '--dst', '1.1.1.1', '--dport', '53', '--protocol', 'udp', '--json']);
    assert.equal(JSON.parse(none.stdout).verdict, 'NONE');
    const human = await kproxy([...base, '--src', '10.0.0.5', '--dst', '1.1.1.1', '--dport', '53']);
    assert.match(human.stdout, /Verdict: NONE — no kproxy rule decided anything/);
    const rej = await kproxy([...base, '--src', '10.0.0.5', '--dst', '10.96.0.20', '--dport', '80', '--json']);
    assert.equal(JSON.parse(rej.stdout).verdict, 'REJECT');
  });

  it('takes the node addresses from the Node object, or --local-address instead', async () => {
    const fromNode = JSON.parse((await kproxy([...base, '--src', '192.168.0.2', '--dst', '10.96.0.10', '--dport', '80', '--json'])).stdout) as TraceJSON;
    assert.ok(
      fromNode.path.some((p) => p.chain === 'nat-output'),
      'a node address as source takes the output path',
    );
    assert.equal(fromNode.masquerade, true);
    const replaced = JSON.parse((await kproxy([...base, '--local-address', '192.168.7.7', '--src', '192.168.0.2', '--dst', '10.96.0.10', '--dport', '80', '--json'])).stdout) as TraceJSON;
    assert.ok(!replaced.path.some((p) => p.chain === 'nat-output'), '--local-address replaced the set');
    assert.ok(replaced.path.some((p) => p.chain === 'nat-prerouting'));
  });

  it('traces a saved ruleset and names the line of a malformed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-trace-'));
    try {
      const file = join(dir, 'bad.nft');
      writeFileSync(file, 'add table ip t\nadd chain ip t c { type nat hook prerouting priority dstnat ; }\nadd rule ip t c ip daddr 10.0.0.1 jump nowhere\n');
      const r = await kproxy(['trace', '--ruleset', file, '--src', '10.0.0.5', '--dst', '10.0.0.1', '--dport', '80']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^kproxy trace: ruleset line 3: jump to chain nowhere, which does not exist/);
      const good = join(dir, 'good.nft');
      writeFileSync(good, 'add table ip t\nadd chain ip t c { type filter hook forward priority 0 ; }\nadd rule ip t c ip daddr 10.0.0.1 tcp dport 80 reject\n');
      const ok = await kproxy(['trace', '--ruleset', good, '--src', '10.0.0.5', '--dst', '10.0.0.1', '--dport', '80', '--json']);
      assert.equal(JSON.parse(ok.stdout).verdict, 'REJECT', ok.stderr);
      // A fault where the packet does not go: found with --check-all, not in its way otherwise.
      const aside = join(dir, 'aside.nft');
      writeFileSync(aside, 'add table ip t\nadd chain ip t c { type filter hook forward priority 0 ; }\nadd chain ip t other\nadd rule ip t other ip daddr 10.0.0.300 drop\n');
      const lazy = await kproxy(['trace', '--ruleset', aside, '--src', '10.0.0.5', '--dst', '10.0.0.1', '--dport', '80', '--json']);
      assert.equal(JSON.parse(lazy.stdout).verdict, 'NONE', lazy.stderr);
      const all = await kproxy(['trace', '--ruleset', aside, '--check-all', '--src', '10.0.0.5', '--dst', '10.0.0.1', '--dport', '80']);
      assert.equal(all.code, 1);
      assert.match(all.stderr, /ruleset line 4: .*"10\.0\.0\.300" is not a valid ipv4_addr/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad flags with the flag named', async () => {
    const r = await kproxy([...base, '--src', '10.0.0.5', '--dst', 'not-an-ip', '--dport', '80']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dst: "not-an-ip" is not an IP address/);
    const fam = await kproxy([...base, '--src', '10.0.0.5', '--dst', 'fd00::1', '--dport', '80']);
    assert.match(fam.stderr, /different IP families/);
    const mode = await kproxy([...base.map((a) => (a === 'nftables' ? 'bogus' : a)), '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', '80']);
    assert.equal(mode.code, 2);
    assert.match(mode.stderr, /--proxy-mode: unknown proxy mode "bogus": expected one of userspace, nftables, iptables, ipvs, ebpf/);
  });

  it('--live against a userspace-mode kproxy says it has no ruleset and what to trace instead', async () => {
    // What /rules?format=json of a userspace-mode kproxy serves: its listening sockets.
    const page = {
      mode: 'userspace',
      appliedAt: new Date().toISOString(),
      generation: 1,
      node: 'n',
      nodeAddresses: [],
      ruleset: 'TCP 127.96.0.10:8080 -> demo/web:http internal scheduler=rr endpoints=127.0.1.1:8080\n',
    };
    const srv = createServer((_req, res) => res.end(JSON.stringify(page)));
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    try {
      const port = (srv.address() as AddressInfo).port;
      const r = await kproxy(['trace', '--live', '--metrics-bind-address', `127.0.0.1:${port}`, '--src', '10.0.0.5', '--dst', '127.96.0.10', '--dport', '8080']);
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr,
        "kproxy: --live: the userspace mode has no tracer (kproxy trace works with: nftables, iptables, ebpf, ipvs); `kproxy trace --manifests DIR` walks, as the dashboard's trace form does, the rules the default iptables mode would apply for the same objects\n",
      );
    } finally {
      srv.close();
    }
  });
});
