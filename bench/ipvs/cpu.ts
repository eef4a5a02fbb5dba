// Time and CPU measurements of the ipvs benchmark's worker.
import { readFileSync } from 'node:fs';

export const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/**
 * CPU time (ms) of this process and of its children that have exited, from /proc/self/stat
 * (utime, stime, cutime, cstime, in clock ticks of 10 ms): a loaded machine stretches wall
 * time, CPU time is what the work itself costs.
 */
export function cpuNow(): { self: number; children: number } {
  const f = readFileSync('/proc/self/stat', 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  const tick = (i: number) => Number(fields[i - 3]) * 10; // field numbers as in proc(5)
  return { self: tick(14) + tick(15), children: tick(16) + tick(17) };
}

export function cpuSince(c0: { self: number; children: number }): number {
  const c = cpuNow();
  return c.self - c0.self + (c.children - c0.children);
}
