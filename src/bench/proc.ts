// CPU time and memory of processes, from /proc. CPU time is what a sync or a connection
// costs whatever else the machine runs; wall time stretches with the machine's load.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function statFields(pid: number | 'self'): string[] | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return f.slice(f.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  } catch {
    return null;
  }
}
/** Field k of proc(5)'s numbering. */
const field = (fields: string[], k: number) => Number(fields[k - 3]);

/** CPU (user + system, ms) of a process; with `children`, plus that of its children that have ended. */
export function cpuMs(pid: number | 'self', children = false): number {
  const f = statFields(pid);
  if (!f) return 0;
  return (field(f, 14) + field(f, 15) + (children ? field(f, 16) + field(f, 17) : 0)) * TICK_MS;
}

/** The live children of a process (by parent PID). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f && field(f, 4) === pid) out.push(Number(name));
  }
  return out;
}

/** Resident set size (bytes) of a process. */
export function rssBytes(pid: number | 'self'): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
