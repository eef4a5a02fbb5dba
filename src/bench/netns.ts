// Named network namespaces of a run, and their end: the pieces the bench's topology
// (topology.ts) and the kernel tests' harness (test/kernel/harness.ts) share. A run names its
// namespaces "<prefix><pid>-…", so that those of a run whose process is gone can be found and
// deleted by the next one, and never another run's.
import { execWithTimeout } from '../util/exec.js';

export async function mustRun(cmd: string, args: string[]): Promise<string> {
  const r = await execWithTimeout(cmd, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The PIDs of the processes inside a named namespace. */
export async function pidsIn(ns: string): Promise<number[]> {
  const r = await execWithTimeout('ip', ['netns', 'pids', ns], { timeoutMs: 10_000 });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/** Kills whatever runs inside the namespaces (found by namespace: ours only), then deletes them, last first. */
export async function deleteNamespaces(names: readonly string[]): Promise<void> {
  for (const name of names) for (const p of await pidsIn(name)) killPid(p);
  for (const name of [...names].reverse()) await execWithTimeout('ip', ['netns', 'del', name], { timeoutMs: 10_000 });
}

/** Deletes the namespaces "<prefix><pid>-…" (and their processes) of runs whose pid is gone. */
export async function removeStaleNamespaces(prefix: string, names: readonly string[]): Promise<void> {
  const stale = names.filter((name) => {
    const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
    return m !== null && Number(m[1]) !== process.pid && !alive(Number(m[1]));
  });
  await deleteNamespaces(stale);
}

/** A veth pair with one end in each namespace, both up. */
export async function addVeth(a: string, aName: string, b: string, bName: string): Promise<void> {
  await mustRun('ip', ['link', 'add', aName, 'netns', a, 'type', 'veth', 'peer', 'name', bName, 'netns', b]);
  await mustRun('ip', ['-n', a, 'link', 'set', aName, 'up']);
  await mustRun('ip', ['-n', b, 'link', 'set', bName, 'up']);
}
