// The cgroup the ebpf mode's client runs in: `<cgroup2>/kpb-<pid>-<tag>-clients`, named like
// the bench's namespaces. Removed when its mode ends, when the bench is interrupted
// (SIGINT/SIGTERM), and, for a run that crashed or was killed (its pid gone), at the next
// start. A cgroup can be removed only once its processes have exited: the topology's
// destroy() kills them, and removal waits a little for the kernel to reap them.
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Mount } from '../bpf/mounts.js';

const NAME = /^kpb-(\d+)-.+-clients$/;
const live = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The client cgroup of a topology (its name prefix); created by the caller. */
export function benchCgroup(prefix: string): string {
  const root = cgroup2Mount();
  if (!root) throw new Error('no cgroup v2 hierarchy is mounted');
  const dir = join(root, `${prefix}-clients`);
  live.add(dir);
  return dir;
}

/** Removes a cgroup of the bench, waiting up to `waitMs` for its last processes to be reaped. */
export async function removeCgroup(dir: string, waitMs = 2000): Promise<boolean> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      if (existsSync(dir)) rmdirSync(dir);
      live.delete(dir);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Every cgroup of this run not yet removed (an interrupted bench, after its namespaces). */
export async function removeLiveCgroups(): Promise<void> {
  for (const dir of [...live]) await removeCgroup(dir);
}

/** The client cgroups left by bench runs whose process is gone (only empty ones can go). */
export async function removeStaleCgroups(root = cgroup2Mount()): Promise<string[]> {
  if (!root || !existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const m = NAME.exec(name);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    if (await removeCgroup(join(root, name), 500)) removed.push(name);
  }
  return removed;
}
