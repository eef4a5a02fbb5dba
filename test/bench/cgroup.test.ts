// The ebpf mode's client cgroup of `kproxy bench` is never left behind: removed at the end of
// the mode, by an interrupted bench (SIGINT), and, for a run that was killed, by the next run.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cgroup2Mount } from '../../src/bpf/mounts.js';
import { benchCgroup, removeLiveCgroups, removeStaleCgroups } from '../../src/bench/cgroup.js';
import { modeSkipReason } from '../../src/bench/preflight.js';
import { fromRoot } from '../helpers/paths.js';

const root = cgroup2Mount();
const skip = process.getuid?.() !== 0 ? 'needs root (cgroups)' : !root ? 'no cgroup v2 hierarchy' : false;

describe('the bench client cgroups', { skip }, () => {
  it("removes the empty cgroups of runs whose process is gone, and keeps a live run's", async () => {
    const gone = spawnSync('true').pid!; // exited: its pid names a dead run
    const sleeper = spawn('sleep', ['30']);
    const dead = join(root!, `kpb-${gone}-ebpf-clients`);
    const live = join(root!, `kpb-${sleeper.pid}-ebpf-clients`);
    mkdirSync(dead);
    mkdirSync(live);
    try {
      const removed = await removeStaleCgroups(root);
      assert.ok(removed.includes(`kpb-${gone}-ebpf-clients`), JSON.stringify(removed));
      assert.equal(existsSync(dead), false);
      assert.equal(existsSync(live), true);
    } finally {
      sleeper.kill('SIGKILL');
      for (const d of [dead, live]) if (existsSync(d)) rmdirSync(d);
    }
  });

  it('removes the cgroups of this run when asked (as on SIGINT/SIGTERM)', async () => {
    const dir = benchCgroup(`kpb-${process.pid}-test`);
    mkdirSync(dir);
    await removeLiveCgroups();
    assert.equal(existsSync(dir), false);
  });

  it('an interrupted ebpf run leaves no cgroup and no namespace', { timeout: 120_000 }, async (t) => {
    const why = await modeSkipReason('ebpf');
    if (why) return t.skip(why);
    const child = spawn(process.execPath, [fromRoot('bin/kproxy.js'), 'bench', '--sizes', '10', '--modes', 'ebpf', '--no-haproxy', '--no-guest', '--samples', '5000', '--json'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const closed = new Promise<number | null>((r) => child.once('close', r));
    const mine = () => readdirSync(root!).filter((n) => n.startsWith(`kpb-${child.pid}-`));
    // Interrupt while the client runs in the cgroup (the traffic phase), so that it is busy then.
    const procs = () =>
      mine().flatMap((d) =>
        readFileSync(join(root!, d, 'cgroup.procs'), 'utf8')
          .split('\n')
          .filter(Boolean),
      );
    const until = Date.now() + 90_000;
    while (procs().length === 0 && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.equal(mine().length, 1, `the run's cgroup exists while it measures: ${err}`);
    assert.ok(procs().length > 0, 'the client runs in it');
    child.kill('SIGINT');
    assert.equal(await closed, 130, err);
    assert.deepEqual(mine(), []);
    assert.deepEqual(existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`kpb-${child.pid}-`)) : [], []);
  });
});
