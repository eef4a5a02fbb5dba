// A TCP probe every 100 ms that expects the backend's "ok", with each failure classified, so
// that a failed probe says whether kproxy had a gap (refused, reset) or the machine was slow
// (timeout, while the same probe straight to the backend was slow too).
import net from 'node:net';

export type Failure = 'refused' | 'reset' | 'timeout' | 'wrong answer' | 'other';

export interface ProbeStats {
  ok: number;
  failed: number;
  byReason: Partial<Record<Failure, number>>;
  /** Slowest successful answer, ms. */
  maxMs: number;
  /** When each failure happened (ms since the soak began) and why; the first 200. */
  failures: { atMs: number; reason: Failure; ms: number }[];
  /** When answers took over 500 ms (ms since the soak began); the first 2,000. */
  slowAt: number[];
}

export function newStats(): ProbeStats {
  return { ok: 0, failed: 0, byReason: {}, maxMs: 0, failures: [], slowAt: [] };
}

function classify(e: (Error & { code?: string }) | null): Failure {
  if (!e) return 'wrong answer';
  if (e.message === 'timeout') return 'timeout';
  if (e.code === 'ECONNREFUSED') return 'refused';
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return 'reset';
  return 'other';
}

/** One connection to host:port; counts it in stats when it ends. */
export function probeOnce(host: string, port: number, stats: ProbeStats, t0: number, timeoutMs = 1000): void {
  const started = performance.now();
  const s = net.connect(port, host);
  let got = '';
  let err: (Error & { code?: string }) | null = null;
  const t = setTimeout(() => s.destroy(new Error('timeout')), timeoutMs);
  s.setEncoding('utf8');
  s.on('data', (d) => (got += d));
  s.on('error', (e) => (err = e));
  s.on('close', () => {
    clearTimeout(t);
    const ms = performance.now() - started;
    if (got.startsWith('ok')) {
      stats.ok++;
      stats.maxMs = Math.max(stats.maxMs, ms);
      if (ms > 500 && stats.slowAt.length < 2000) stats.slowAt.push(Date.now() - t0);
      return;
    }
    const reason = classify(err);
    stats.failed++;
    stats.byReason[reason] = (stats.byReason[reason] ?? 0) + 1;
    if (stats.failures.length < 200) stats.failures.push({ atMs: Date.now() - t0, reason, ms: Math.round(ms) });
  });
}

export function summary(s: ProbeStats): string {
  const reasons = Object.entries(s.byReason)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  return `ok ${s.ok} failed ${s.failed}${reasons ? ` (${reasons})` : ''}, slowest ok ${s.maxMs.toFixed(0)} ms`;
}

/** Failures of `s` within 1.5 s of a slow or failed probe of `reference` (the machine stalled, not kproxy). */
export function duringStalls(s: ProbeStats, reference: ProbeStats): number {
  const marks = [...reference.slowAt, ...reference.failures.map((f) => f.atMs)];
  return s.failures.filter((f) => marks.some((m) => Math.abs(m - f.atMs) < 1500)).length;
}
