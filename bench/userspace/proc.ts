// A proxy's CPU time and memory from /proc, its child processes (kproxy's workers) included;
// exported for other harnesses, as the traffic measurements in clients.ts are.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process and its children (kproxy's workers) have used so far. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  let total = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(p) === pid || Number(f[1]) === pid) total += (Number(f[11]) + Number(f[12])) / 100; // utime, stime (USER_HZ = 100)
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** RSS of a process and its children (kproxy's worker processes), MB. */
export function rssMB(pid: number): number {
  let total = 0;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      if (Number(p) !== pid && ppid !== pid) continue;
      total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
