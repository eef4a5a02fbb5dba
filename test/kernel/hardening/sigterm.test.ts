// A sync stuck behind a hanging `nft` must not keep kproxy from stopping: SIGTERM ends it
// within a few seconds and takes the hanging command with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelSkipReason, PROJECT_ROOT } from '../harness.js';

const skip = kernelSkipReason(['nft', 'ip']);

test('SIGTERM stops kproxy within seconds while nft hangs, and the hanging nft is killed', { skip: skip ?? false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-sigterm-'));
  const ns = `k12-term-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const nft = join(dir, 'bin', 'nft');
    execFileSync('mkdir', ['-p', join(dir, 'bin'), join(dir, 'manifests')]);
    writeFileSync(nft, `#!/bin/sh\necho $$ > "${nft}.pid"\nexec sleep 600\n`);
    chmodSync(nft, 0o755);
    writeFileSync(join(dir, 'manifests', 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: demo}\nspec: {clusterIP: 10.96.0.10, ports: [{port: 80}]}\n');
    const env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, KPROXY_TEST_NETNS: ns };
    const args = [
      'netns',
      'exec',
      ns,
      process.execPath,
      join(PROJECT_ROOT, 'bin', 'kproxy.js'),
      'run',
      '--proxy-mode',
      'nftables',
      '--manifests',
      join(dir, 'manifests'),
      '--healthz-bind-address',
      '',
      '--metrics-bind-address',
      '',
      '--hostname-override',
      'node-a',
    ];
    const p = spawn('ip', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    const t0 = Date.now();
    while (!existsSync(`${nft}.pid`)) {
      if (Date.now() - t0 > 20_000) throw new Error(`nft never ran:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const nftPid = Number(readFileSync(`${nft}.pid`, 'utf8'));
    // ip netns exec execs node: p.pid is kproxy's own pid.
    const t1 = Date.now();
    p.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    if (code === 'still running') p.kill('SIGKILL');
    assert.notEqual(code, 'still running', `kproxy ignored SIGTERM:\n${stderr}`);
    assert.ok(Date.now() - t1 < 8000);
    // A killed process stays a zombie until reaped: look for a while, not once.
    let gone = false;
    for (let i = 0; i < 40 && !gone; i++) {
      try {
        gone = /^State:\s+Z/m.test(readFileSync(`/proc/${nftPid}/status`, 'utf8'));
      } catch {
        gone = true; // reaped
      }
      if (!gone) await new Promise((r) => setTimeout(r, 50));
    }
    if (!gone) process.kill(nftPid, 'SIGKILL');
    assert.ok(gone, `the hanging nft was killed (exit ${code}):\n${stderr}`);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
