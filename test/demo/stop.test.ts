// Stopping `npm start` must leave nothing running: npm may signal only the shell it started
// the launcher from, so the launcher follows its parent and takes kproxy with it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const launcher = fileURLToPath(new URL('../../src/demo/launch.js', import.meta.url));
const fixture = fileURLToPath(new URL('../../../test/fixtures/userspace-demo', import.meta.url));

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('demo launcher', () => {
  it('exits, with kproxy, when the shell that started it is killed', async () => {
    // The shell stays the launcher's parent (`; true` keeps sh from exec'ing node).
    const sh = spawn('sh', ['-c', `"${process.execPath}" "${launcher}" "${fixture}" --metrics-bind-address '' --healthz-bind-address '' --dns-bind-address off; true`], { stdio: 'ignore' });
    let launcherPid = 0;
    let kproxyPid = 0;
    for (let i = 0; i < 100 && !kproxyPid; i++) {
      await new Promise((r) => setTimeout(r, 100));
      launcherPid = childrenOf(sh.pid!)[0] ?? 0;
      if (launcherPid) kproxyPid = childrenOf(launcherPid)[0] ?? 0;
    }
    assert.ok(launcherPid && kproxyPid, 'the launcher started kproxy');
    sh.kill('SIGKILL');
    for (let i = 0; i < 100 && (alive(launcherPid) || alive(kproxyPid)); i++) await new Promise((r) => setTimeout(r, 100));
    const left = [launcherPid, kproxyPid].filter(alive);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    assert.deepEqual(left, [], 'nothing left running');
  });
});
