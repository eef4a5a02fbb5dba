// A network namespace for one test, by the ip tool. `ip netns add` can fail when several run
// at once on a machine where /run/netns is not yet a shared mount (they race to set it up):
// a failed add is tried again, and the last error is thrown.
import { spawnSync } from 'node:child_process';

export function addNetns(name: string): void {
  let last = '';
  for (let i = 0; i < 5; i++) {
    const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    if (r.status === 0) return;
    last = r.stderr.trim();
    spawnSync('ip', ['netns', 'del', name]);
    spawnSync('sleep', ['0.2']);
  }
  throw new Error(`ip netns add ${name}: ${last}`);
}

export function delNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name]);
}
