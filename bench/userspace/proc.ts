// A proxy's CPU time and memory from /proc, its child processes (kproxy's workers) included:
// the cross-mode bench's readings (src/bench/proc.ts), in the units this benchmark prints.
import { childrenOf, cpuMs, rssBytes } from '../../src/bench/proc.js';

const withChildren = (pid: number) => [pid, ...childrenOf(pid)];

/** CPU seconds (user + system) a process and its children (kproxy's workers) have used so far. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  return withChildren(pid).reduce((s, p) => s + cpuMs(p), 0) / 1000;
}

/** RSS of a process and its children (kproxy's worker processes), MB. */
export function rssMB(pid: number): number {
  return withChildren(pid).reduce((s, p) => s + rssBytes(p), 0) / 2 ** 20;
}
