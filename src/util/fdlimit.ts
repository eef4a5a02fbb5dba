// File descriptors: kproxy raises its soft limit to the hard limit at start (as Go programs,
// kube-proxy among them, do), and the first time the process runs out (EMFILE, ENFILE) it
// says so — once, loudly — and counts every occurrence in kproxy_fd_exhaustion_total.
import { readFileSync } from 'node:fs';
import { execWithTimeout } from './exec.js';
import type { Logger } from './log.js';

export function fdLimits(): { soft: number; hard: number } | null {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const m = line ? /Max open files\s+(\S+)\s+(\S+)/.exec(line) : null;
    if (!m) return null;
    const n = (s: string) => (s === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(s));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return null;
  }
}

/** Raises the soft limit on open files to the hard limit (prlimit(1)); returns the soft limit now. */
export async function raiseFdLimit(log: Logger): Promise<number | null> {
  const before = fdLimits();
  if (!before || before.soft >= before.hard) return before?.soft ?? null;
  try {
    const r = await execWithTimeout('prlimit', ['--pid', String(process.pid), `--nofile=${before.hard}:${before.hard}`], { timeoutMs: 5000 });
    if (r.code !== 0) throw new Error(r.stderr.trim() || `exit ${r.code}`);
  } catch (e) {
    log.warn({ soft: before.soft, hard: before.hard, err: (e as Error).message }, 'cannot raise the open-files limit; keeping the soft limit');
    return before.soft;
  }
  const after = fdLimits();
  log.info({ from: before.soft, to: after?.soft }, 'open-files limit raised to the hard limit');
  return after?.soft ?? before.soft;
}

type Counter = { inc(): void };
let counter: Counter | null = null;
let noted = false;
let logger: Logger | null = null;

export function watchFdExhaustion(log: Logger, c: Counter): void {
  logger = log;
  counter = c;
}

/** Call with any error: counts and (the first time) logs it when it says "out of descriptors". */
export function noteFdExhaustion(err: unknown, where: string): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code !== 'EMFILE' && code !== 'ENFILE') return false;
  counter?.inc();
  if (!noted) {
    noted = true;
    logger?.error({ where, code, limits: fdLimits() }, 'out of file descriptors: new connections and sessions fail until some close (counted in kproxy_fd_exhaustion_total)');
  }
  return true;
}

/** `kproxy run`: raise the limit, then count and report exhaustion. */
export async function guardFileDescriptors(log: Logger, registry: import('prom-client').Registry): Promise<void> {
  await raiseFdLimit(log);
  const { Counter } = await import('prom-client');
  const c = new Counter({ name: 'kproxy_fd_exhaustion_total', help: 'Times an accept, socket or open failed for want of file descriptors (EMFILE, ENFILE)', registers: [registry] });
  watchFdExhaustion(log, c);
}
