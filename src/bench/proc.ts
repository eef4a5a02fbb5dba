// CPU time and memory of processes, from /proc. CPU time is what a sync or a connection
// costs whatever else the machine runs; wall time stretches with the machine's load.
import { readdirSync, readFileSync } from 'node:fs';
import { koffiLibc } from '../util/libc.js';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function statFields(pid: number | 'self'): string[] | null {
  try {
    return liveStatFields(pid);
  } catch {
    return null;
  }
}
function liveStatFields(pid: number | 'self'): string[] {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return f.slice(f.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
}
/** Field k of proc(5)'s numbering. */
const field = (fields: string[], k: number) => Number(fields[k - 3]);

/** CPU (user + system, ms) of a process; with `children`, plus that of its children that have ended. */
export function cpuMs(pid: number | 'self', children = false): number {
  const f = statFields(pid);
  if (!f) return 0;
  return (field(f, 14) + field(f, 15) + (children ? field(f, 16) + field(f, 17) : 0)) * TICK_MS;
}

/**
 * CPU (user + system, ms) and minor page faults (a page of fresh memory written for the first
 * time is one) of a process that must be alive: a vanished process throws instead of reading
 * as idle, for a benchmark whose figure would otherwise silently drop to zero.
 */
export function liveCpuAndFaults(pid: number): { cpuMs: number; minorFaults: number } {
  const f = liveStatFields(pid);
  return { cpuMs: (field(f, 14) + field(f, 15)) * TICK_MS, minorFaults: field(f, 10) };
}

/**
 * CPU (user + system, ms) of this process and of its children that have ended, to the
 * microsecond: getrusage(2) through koffi. /proc's figures are whole clock ticks (10 ms), which
 * at a 200 ms sync is a 5 % step. Without koffi, the tick-based reading above.
 */
export function selfAndChildrenCpuMs(): number {
  const own = process.resourceUsage();
  const children = childrenRusageMs();
  return children === null ? cpuMs('self', true) : (own.userCPUTime + own.systemCPUTime) / 1000 + children;
}

const RUSAGE_CHILDREN = -1;
let getrusage: ((who: number, out: Buffer) => number) | null | undefined;
const usage = Buffer.alloc(144); // struct rusage on 64-bit Linux: two timevals, then 14 longs

/** CPU (ms) of the ended children, or null where libc cannot be reached. */
function childrenRusageMs(): number | null {
  try {
    getrusage ??= koffiLibc().lib.func('int getrusage(int, _Out_ uint8_t *)') as (who: number, out: Buffer) => number;
  } catch {
    getrusage = null;
  }
  if (!getrusage || getrusage(RUSAGE_CHILDREN, usage) !== 0) return null;
  const tv = (at: number) => Number(usage.readBigInt64LE(at)) * 1000 + Number(usage.readBigInt64LE(at + 8)) / 1000;
  return tv(0) + tv(16);
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
