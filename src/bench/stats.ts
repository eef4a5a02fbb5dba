// The benchmark's statistics: quantiles of latency samples and ratios against the direct
// reference. Pure functions, so that the report's figures can be checked from fixed input.

export interface Summary {
  p50: number;
  p99: number;
  n: number;
}

/**
 * The q-quantile of samples (0 ≤ q ≤ 1) by linear interpolation between the two nearest
 * ranks (the "type 7" estimator of R and numpy). NaN for no samples.
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (samples: readonly number[]): number => quantile(samples, 0.5);

/** Wall time (ms) since a process.hrtime.bigint() reading. */
export const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

export function summarize(samples: readonly number[]): Summary {
  return { p50: round(quantile(samples, 0.5), 1), p99: round(quantile(samples, 0.99), 1), n: samples.length };
}

/** a / b, rounded to 2 decimals; null when either side is missing or b is not positive. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return null;
  return round(a / b, 2);
}

export function round(x: number, digits = 0): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
