// The Health panel's figures, read from the same prom-client histograms and counters that
// /metrics serves: every sample keeps the mean sync duration and network-programming latency
// of the interval (delta of _sum over delta of _count), an hour of them in a ring.
import type { Counter, Histogram } from 'prom-client';
import type { ProxierHealth } from '../health/proxier.js';
import type { ProxyMetrics } from '../metrics/metrics.js';
import type { ProxyState } from '../model/types.js';
import { formatObjectError } from '../util/errors.js';

/** One point of the charts: seconds since the epoch, then means in seconds (null: nothing happened). */
export interface HealthPoint {
  t: number;
  syncMean: number | null;
  syncs: number;
  programmingMean: number | null;
  programmed: number;
}

export interface HealthStatus {
  generation: number;
  lastSync: { at: string; kind: 'full' | 'partial' | 'unknown'; seconds: number | null } | null;
  syncFailures: number;
  healthz: { healthy: boolean; lastUpdated: string | null } | null;
  invalidObjects: { kind: string; namespace: string; name: string; field: string; reason: string; text: string }[];
}

interface SumCount {
  sum: number;
  count: number;
}

async function sumCount(h: Histogram): Promise<SumCount> {
  const m = await h.get();
  let sum = 0;
  let count = 0;
  for (const v of m.values) {
    if (v.metricName?.endsWith('_sum')) sum += v.value;
    else if (v.metricName?.endsWith('_count')) count += v.value;
  }
  return { sum, count };
}

async function total(c: Counter<string>): Promise<number> {
  return (await c.get()).values.reduce((n, v) => n + v.value, 0);
}

export class HealthSampler {
  readonly points: HealthPoint[] = [];
  private lastSync = { sum: 0, count: 0 };
  private lastProgramming = { sum: 0, count: 0 };
  private seen = { all: { sum: 0, count: 0 }, full: 0, partial: 0 };
  private status: HealthStatus = { generation: 0, lastSync: null, syncFailures: 0, healthz: null, invalidObjects: [] };

  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly health: ProxierHealth | undefined,
    private readonly keep = 720,
  ) {}

  /** Appends the point of the interval since the previous sample. */
  async sample(now = Date.now()): Promise<HealthPoint> {
    const s = await sumCount(this.metrics.syncDuration);
    const p = await sumCount(this.metrics.networkProgrammingDuration);
    const mean = (a: SumCount, b: SumCount) => (a.count > b.count ? (a.sum - b.sum) / (a.count - b.count) : null);
    const point: HealthPoint = {
      t: Math.round(now / 1000),
      syncMean: mean(s, this.lastSync),
      syncs: s.count - this.lastSync.count,
      programmingMean: mean(p, this.lastProgramming),
      programmed: p.count - this.lastProgramming.count,
    };
    this.lastSync = s;
    this.lastProgramming = p;
    this.points.push(point);
    if (this.points.length > this.keep) this.points.splice(0, this.points.length - this.keep);
    return point;
  }

  /** After a successful sync: which kind it was (the full or partial histogram moved) and how long it took. */
  async synced(state: ProxyState, now = new Date()): Promise<HealthStatus> {
    const all = await sumCount(this.metrics.syncDuration);
    const full = (await sumCount(this.metrics.syncFullDuration)).count;
    const partial = (await sumCount(this.metrics.syncPartialDuration)).count;
    const kind = full > this.seen.full ? 'full' : partial > this.seen.partial ? 'partial' : 'unknown';
    const seconds = all.count > this.seen.all.count ? (all.sum - this.seen.all.sum) / (all.count - this.seen.all.count) : null;
    this.seen = { all, full, partial };
    this.status = {
      generation: state.generation,
      lastSync: { at: now.toISOString(), kind, seconds },
      syncFailures: await total(this.metrics.syncFailures),
      healthz: this.healthz(),
      invalidObjects: state.errors.map((e) => ({ ...e, text: formatObjectError(e) })),
    };
    return this.status;
  }

  /** The status with /healthz and the failure count read again (they move between syncs). */
  async current(): Promise<HealthStatus> {
    this.status = { ...this.status, syncFailures: await total(this.metrics.syncFailures), healthz: this.healthz() };
    return this.status;
  }

  private healthz(): HealthStatus['healthz'] {
    if (!this.health) return null;
    const h = this.health.health();
    return { healthy: h.healthy, lastUpdated: h.lastUpdated?.toISOString() ?? null };
  }
}
