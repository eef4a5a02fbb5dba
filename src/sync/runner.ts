// The sync runner: turns a stream of "something changed" into bounded-frequency syncs.
//  - at most one sync per minSyncPeriod, never two at once;
//  - a full sync at start, every syncPeriod, after any failure and when the node changed;
//  - partial syncs otherwise;
//  - a failed sync is retried with exponential backoff (minSyncPeriod, doubling, capped at
//    syncPeriod), and the dataplane keeps its previous programming meanwhile.
import type { Dataplane } from '../dataplanes/dataplane.js';
import type { ProxierHealth } from '../health/proxier.js';
import type { ProxyMetrics } from '../metrics/metrics.js';
import type { ChangeTracker } from '../model/tracker.js';
import type { ProxyState } from '../model/types.js';
import { realClock, type Clock, type TimerHandle } from '../util/clock.js';

export interface RunnerOptions {
  tracker: ChangeTracker;
  dataplane: Dataplane;
  minSyncPeriodMs: number;
  syncPeriodMs: number;
  metrics?: ProxyMetrics;
  health?: ProxierHealth;
  /** Called after every successful sync. */
  onSynced?: (state: ProxyState, info: { full: boolean; durationMs: number }) => void;
  onError?: (err: unknown, attempt: number) => void;
  /** Time and timers (tests pass a fake clock). */
  clock?: Clock;
}

export class SyncRunner {
  private timer: TimerHandle | null = null;
  private periodic: TimerHandle | null = null;
  private running: Promise<void> | null = null;
  private requested = false;
  private needFull = true;
  private lastRunAt = -Infinity;
  private lastFullAt = -Infinity;
  private failures = 0;
  private stopped = true;
  private readonly clock: Clock;
  private readonly now: () => number;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: RunnerOptions) {
    this.clock = opts.clock ?? realClock;
    this.now = () => this.clock.now();
  }

  /** Starts with a full sync at once, then periodic full syncs. */
  start(): void {
    this.stopped = false;
    this.needFull = true;
    this.requestSync();
    this.periodic = this.clock.setInterval(() => {
      this.needFull = true;
      this.requestSync();
    }, this.opts.syncPeriodMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    if (this.periodic) this.clock.clearInterval(this.periodic);
    this.timer = this.periodic = null;
    await this.running;
  }

  /** Something changed: sync as soon as minSyncPeriod allows. */
  requestSync(): void {
    this.opts.health?.queuedUpdate();
    this.opts.metrics?.lastQueuedTimestamp.set(this.now() / 1000);
    this.requested = true;
    this.schedule(0);
  }

  /** Resolves when no sync is running or waiting (tests and one-shot commands use it). */
  idle(): Promise<void> {
    if (!this.running && !this.timer && !this.requested) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(extraDelayMs: number): void {
    if (this.stopped || this.running || this.timer) return;
    const earliest = this.lastRunAt + this.opts.minSyncPeriodMs;
    const delay = Math.max(0, earliest - this.now(), extraDelayMs);
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.running = this.runOnce().finally(() => {
        this.running = null;
        if (this.requested) this.schedule(this.failures > 0 ? this.backoffMs() : 0);
        else this.notifyIdle();
      });
    }, delay);
  }

  private notifyIdle(): void {
    if (this.running || this.timer || this.requested) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private backoffMs(): number {
    const base = Math.max(this.opts.minSyncPeriodMs, 1000);
    return Math.min(this.opts.syncPeriodMs, base * 2 ** (this.failures - 1));
  }

  private async runOnce(): Promise<void> {
    this.requested = false;
    const { tracker, dataplane, metrics } = this.opts;
    const start = this.now();
    this.lastRunAt = start;
    const state = tracker.snapshot();
    const triggers = tracker.takeTriggerTimes();
    const full = this.needFull || state.nodeChanged || start - this.lastFullAt >= this.opts.syncPeriodMs;
    try {
      await dataplane.sync(state, full);
    } catch (err) {
      this.failures++;
      this.needFull = true;
      this.requested = true; // retry, with backoff
      metrics?.syncFailures.inc({ mode: dataplane.mode });
      this.opts.onError?.(err, this.failures);
      return;
    }
    const end = this.now();
    const durationMs = end - start;
    this.failures = 0;
    this.needFull = false;
    if (full) this.lastFullAt = start;
    this.opts.health?.setNodeEligible(!state.node.deleting && state.node.eligible);
    this.opts.health?.updated();
    if (metrics) {
      metrics.syncDuration.observe(durationMs / 1000);
      (full ? metrics.syncFullDuration : metrics.syncPartialDuration).observe(durationMs / 1000);
      metrics.lastSyncTimestamp.set(end / 1000);
      for (const t of triggers) if (t <= end) metrics.networkProgrammingDuration.observe((end - t) / 1000);
      const c = tracker.changeCounts();
      metrics.endpointChangesPending.set(c.endpointsPending);
      metrics.serviceChangesPending.set(c.servicesPending);
      metrics.endpointChangesTotal.set(c.endpointChangesTotal);
      metrics.serviceChangesTotal.set(c.serviceChangesTotal);
      const n = tracker.noLocalEndpointCounts();
      metrics.noLocalEndpoints.set({ traffic_policy: 'internal' }, n.internal);
      metrics.noLocalEndpoints.set({ traffic_policy: 'external' }, n.external);
    }
    this.opts.onSynced?.(state, { full, durationMs });
  }
}
