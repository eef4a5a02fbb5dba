// `kproxy bench --kube-proxy PATH` end to end. Upstream kube-proxy cannot be built on this
// machine, so a real binary that takes kube-proxy's flags and speaks list/watch stands in for
// it: `kproxy run` itself, behind a two-line script. The bench must serve it the cluster,
// read its syncs from its metrics, find its rules in the kernel, measure traffic through
// them, and name a binary that is missing, not executable, exits or never syncs in one line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { BenchResults } from '../../src/bench/types.js';
import { KPROXY_VERSION } from '../../src/cli/version.js';
import { fromRoot } from '../helpers/paths.js';

const onPath = (t: string) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => existsSync(`${d}/${t}`));
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : !onPath('iptables-nft-restore') || !onPath('nft') ? 'needs iptables-nft and nft' : false;
const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-kp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string, mode = 0o755): string {
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, mode);
  return f;
}

async function bench(args: string[]): Promise<{ code: number | null; out: string; err: string; pid: number }> {
  const child = spawn(process.execPath, [fromRoot('bin/kproxy.js'), 'bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  return { code, out, err, pid: child.pid! };
}

const ONLY_KUBE_PROXY = ['--sizes', '10', '--modes', '', '--no-haproxy', '--no-guest', '--samples', '50', '--json'];
const leftNamespaces = (pid: number) => (existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`kpb-${pid}-`)) : []);

describe('kproxy bench --kube-proxy', () => {
  it('refuses a path that is missing or not executable, in one line', async () => {
    const missing = await bench(['--kube-proxy', join(dir, 'nope'), ...ONLY_KUBE_PROXY]);
    assert.equal(missing.code, 2);
    assert.equal(missing.err.trim().split('\n').length, 1, missing.err);
    assert.match(missing.err, /--kube-proxy: .*nope: no such file/);
    const plain = script('not-executable', 'exit 0', 0o644);
    const r = await bench(['--kube-proxy', plain, ...ONLY_KUBE_PROXY]);
    assert.equal(r.code, 2);
    assert.match(r.err.trim(), /^kproxy[^\n]*--kube-proxy: .*not-executable: not executable \(chmod \+x\)$/);
  });

  it("measures a binary that takes kube-proxy's flags (kproxy run standing in) through the API server", { skip, timeout: 180_000 }, async () => {
    const standIn = script('kube-proxy', `exec "${process.execPath}" "${fromRoot('bin/kproxy.js')}" run "$@"`);
    const r = await bench(['--kube-proxy', standIn, ...ONLY_KUBE_PROXY]);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out) as BenchResults;
    const kp = res.references.find((x) => x.name.startsWith('kube-proxy'))!;
    assert.equal(kp.status, 'measured', kp.reason);
    assert.equal(kp.version, KPROXY_VERSION, "the binary's --version");
    const [s] = kp.sizes!;
    assert.equal(s.status, 'measured', s.reason);
    assert.ok(s.fullSyncMs! > 0 && s.partialSyncMs! > 0 && s.rssMB! > 10, JSON.stringify(s));
    // kproxy's iptables rules for 10 Services × 10 endpoints (the first and last with the two Pods).
    assert.ok(s.kernelRules! > 100, `rules in the kernel: ${s.kernelRules}`);
    assert.equal(s.firstPacket!.last.n, 50);
    assert.ok(s.firstPacket!.last.p50 > 0 && s.request!.service.p50 > 0 && s.cpuPerConnectionUs!.service > 0);
    assert.deepEqual(leftNamespaces(r.pid), []);
  });

  it('names a binary that exits, one that never syncs, and one whose syncs leave no rule', { skip, timeout: 150_000 }, async () => {
    const version = 'if [ "$1" = --version ]; then echo "Kubernetes v0.0.0-test"; exit 0; fi';
    const exits = script('exits', `${version}\necho 'unknown flag: --proxy-mode' >&2\nexit 2`);
    const a = JSON.parse((await bench(['--kube-proxy', exits, ...ONLY_KUBE_PROXY])).out) as BenchResults;
    const sa = a.references.find((x) => x.name.startsWith('kube-proxy'))!.sizes![0];
    assert.equal(sa.status, 'failed');
    assert.match(sa.reason!, /exits ended \(exit 2\) before its first sync: unknown flag: --proxy-mode$/);
    const hangs = script('hangs', `${version}\necho 'waiting for the API server' >&2\nexec sleep 600`);
    const b = await bench(['--kube-proxy', hangs, '--max-sync-seconds', '1', ...ONLY_KUBE_PROXY]);
    const sb = (JSON.parse(b.out) as BenchResults).references.find((x) => x.name.startsWith('kube-proxy'))!.sizes![0];
    assert.equal(sb.status, 'failed');
    assert.match(sb.reason!, /hangs did not report its first sync within 12 s \(nothing answers on 127\.0\.0\.1:10249\/metrics\): waiting for the API server$/);
    assert.deepEqual(leftNamespaces(b.pid), []);
    // Metrics that claim a sync, and no rule in the kernel: not counted as a sync.
    const page = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e9\\nkubeproxy_sync_proxy_rules_duration_seconds_sum 0.1\\nkubeproxy_sync_proxy_rules_duration_seconds_count 1\\n';
    const claims = script('claims', `${version}\nexec "${process.execPath}" -e "require('http').createServer((q, r) => r.end('${page}')).listen(10249, '127.0.0.1')"`);
    const c = await bench(['--kube-proxy', claims, '--max-sync-seconds', '1', ...ONLY_KUBE_PROXY]);
    const sc = (JSON.parse(c.out) as BenchResults).references.find((x) => x.name.startsWith('kube-proxy'))!.sizes![0];
    assert.equal(sc.status, 'failed');
    assert.match(sc.reason!, /claims did not report its first sync within 12 s \(it reports a sync, but no iptables rule names the last Service's 10\.100\.0\.9\/32\)/);
  });
});
