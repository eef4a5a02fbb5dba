// `kproxy rules` and `kproxy trace` with --proxy-mode iptables, end to end: the real CLI on a
// manifests folder; trace reads back exactly what rules prints.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TraceJSON } from '../../src/trace/result.js';
import { kproxy } from './run-kproxy.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/trace');
const flags = ['--proxy-mode', 'iptables', '--manifests', FIXTURE, '--hostname-override', 'test-node', '--cluster-cidr', '10.0.0.0/8'];

describe('kproxy rules / trace --proxy-mode iptables', () => {
  it('trace: a ClusterIP from a pod, exact probabilities, no masquerade; the story names the statistic rules', async () => {
    const r = await kproxy(['trace', ...flags, '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', '80', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as TraceJSON;
    assert.equal(j.verdict, 'DNAT');
    assert.deepEqual(j.endpoints.map((e) => `${e.ip}:${e.port}`).sort(), ['10.0.1.1:8080', '10.0.2.1:8080', '10.0.3.1:8080']);
    assert.ok(j.endpoints.every((e) => Math.abs(e.probability - 1 / 3) < 1e-12));
    assert.equal(j.masquerade, false);
    assert.ok(j.path.some((p) => p.table === 'nat' && p.chain === 'KUBE-SERVICES' && p.rule.includes('-d 10.96.0.10')));
    const story = await kproxy(['trace', ...flags, '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', '80']);
    assert.match(story.stdout, /statistic: taken \(probability 1\/3\)/);
  });

  it('trace --ruleset reads what `kproxy rules` printed, and names a line it cannot read', async () => {
    const rules = await kproxy(['rules', ...flags]);
    assert.equal(rules.code, 0, rules.stderr);
    assert.match(rules.stdout, /^# IPv4: iptables-restore --noflush$/m);
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-ipt-cli-'));
    try {
      const file = join(dir, 'rules.txt');
      writeFileSync(file, rules.stdout);
      const r = await kproxy(['trace', '--proxy-mode', 'iptables', '--ruleset', file, '--local-address', '192.168.0.2', '--src', '203.0.113.7', '--dst', '10.96.0.20', '--dport', '80', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as TraceJSON).verdict, 'REJECT', 'the Service without endpoints');
      const bad = join(dir, 'bad.txt');
      writeFileSync(bad, '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m bpf --bytecode x -j DROP\nCOMMIT\n');
      const e = await kproxy(['trace', '--proxy-mode', 'iptables', '--ruleset', bad, '--src', '10.0.0.5', '--dst', '10.0.0.1', '--dport', '80']);
      assert.equal(e.code, 1);
      assert.match(e.stderr, /^kproxy trace: line 3: option --bytecode is not understood/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
