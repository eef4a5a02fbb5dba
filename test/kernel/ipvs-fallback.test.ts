// Without IPVS in the kernel, `kproxy run --proxy-mode ipvs` says why and runs iptables mode
// instead, as kube-proxy does. This runs on this machine's own kernel, in a network namespace
// of its own (the ipvs suite proper runs in a user-mode-Linux guest: ipvs.test.ts).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { availableModes } from '../../src/dataplanes/registry.js';
import { PROJECT_ROOT } from './uml/launcher.js';

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

const hostHasIpvs = existsSync('/proc/net/ip_vs');
const fallbackSkip = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : hostHasIpvs ? "this machine's kernel has IPVS: no fallback to see" : false;
test('without IPVS in the kernel, --proxy-mode ipvs says why and falls back to iptables mode or exits 2', { skip: fallbackSkip }, async () => {
  const ns = `k16-${process.pid}-fallback`;
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-ipvs-fb-'));
  assert.equal((await run('ip', ['netns', 'add', ns])).code, 0);
  try {
    const kproxy = [
      process.execPath,
      join(PROJECT_ROOT, 'bin', 'kproxy.js'),
      'run',
      '--proxy-mode',
      'ipvs',
      '--manifests',
      dir,
      '--healthz-bind-address',
      '',
      '--metrics-bind-address',
      '',
      '--dns-bind-address',
      'off',
    ];
    if (availableModes().includes('iptables')) {
      // iptables mode exists: kproxy logs why and keeps running in iptables mode.
      const child = execFile('ip', ['netns', 'exec', ns, 'timeout', '-s', 'INT', '15', ...kproxy]);
      let text = '';
      child.stdout!.on('data', (d) => (text += d));
      child.stderr!.on('data', (d) => (text += d));
      await new Promise((r) => child.on('exit', r));
      assert.match(text, /ipvs mode cannot run: the kernel has no IPVS.*falling back to iptables mode/);
    } else {
      const r = await run('ip', ['netns', 'exec', ns, ...kproxy]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        r.stderr,
        /ipvs mode cannot run: the kernel has no IPVS \(\/proc\/net\/ip_vs does not exist; .*\)\. kube-proxy would fall back to iptables mode, but iptables mode is not available in this build/,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
    }
  } finally {
    await run('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
