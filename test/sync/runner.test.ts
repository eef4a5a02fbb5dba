import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dataplane } from '../../src/dataplanes/dataplane.js';
import { ProxierHealth } from '../../src/health/proxier.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import type { ProxyState } from '../../src/model/types.js';
import { SyncRunner } from '../../src/sync/runner.js';
import { sampleValue } from '../helpers/prom.js';
import { service } from '../helpers/objects.js';

class Recorder implements Dataplane {
  readonly mode = 'record';
  calls: { generation: number; full: boolean; changed: string[]; at: number }[] = [];
  failNext = 0;
  async sync(state: ProxyState, full: boolean) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected failure');
    }
    this.calls.push({ generation: state.generation, full, changed: [...state.changed], at: Date.now() });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SyncRunner', () => {
  it('syncs fully at start, then partially, at most once per minSyncPeriod', async () => {
    const tracker = new ChangeTracker({ nodeName: 'n1' });
    const dp = new Recorder();
    const runner = new SyncRunner({ tracker, dataplane: dp, minSyncPeriodMs: 150, syncPeriodMs: 60_000 });
    tracker.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    runner.start();
    await runner.idle();
    for (let i = 0; i < 10; i++) {
      tracker.upsert(service('ns', `b${i}`, { clusterIP: `10.96.1.${i + 1}`, ports: [{ port: 80 }] }));
      runner.requestSync();
    }
    await runner.idle();
    await runner.stop();
    assert.equal(dp.calls.length, 2, 'ten requests coalesced into one sync');
    assert.equal(dp.calls[0].full, true);
    assert.equal(dp.calls[1].full, false);
    assert.equal(dp.calls[1].changed.length, 10);
    assert.ok(dp.calls[1].at - dp.calls[0].at >= 140, `second sync waited for minSyncPeriod (${dp.calls[1].at - dp.calls[0].at} ms)`);
  });

  it('retries a failed sync with a full one and counts the failure', async () => {
    const tracker = new ChangeTracker({ nodeName: 'n1' });
    const dp = new Recorder();
    const metrics = new ProxyMetrics();
    const errors: number[] = [];
    const runner = new SyncRunner({ tracker, dataplane: dp, metrics, minSyncPeriodMs: 0, syncPeriodMs: 60_000, onError: (_e, n) => errors.push(n) });
    runner.start();
    await runner.idle();
    dp.failNext = 1;
    tracker.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    runner.requestSync();
    await sleep(1500); // first retry after ~1 s of backoff
    await runner.idle();
    await runner.stop();
    assert.deepEqual(errors, [1]);
    assert.equal(dp.calls.length, 2);
    assert.equal(dp.calls[1].full, true, 'the retry is a full sync');
    assert.equal(sampleValue(await metrics.text(), 'kproxy_sync_failures_total', { mode: 'record' }), 1);
  });

  it('keeps /healthz healthy while syncs progress and reports a stalled update', async () => {
    let now = 1_000_000;
    const health = new ProxierHealth(60_000, () => now);
    assert.equal(health.health().healthy, true);
    health.queuedUpdate();
    now += 59_000;
    assert.equal(health.health().healthy, true);
    now += 2_000;
    assert.equal(health.health().healthy, false);
    assert.equal(health.live().healthy, false);
    health.updated();
    assert.equal(health.health().healthy, true);
    health.setNodeEligible(false);
    assert.equal(health.health().healthy, false, '/healthz fails while the node goes away');
    assert.equal(health.live().healthy, true, '/livez does not look at the node');
  });

  it('runs a periodic full sync every syncPeriod', async () => {
    const tracker = new ChangeTracker({ nodeName: 'n1' });
    const dp = new Recorder();
    const runner = new SyncRunner({ tracker, dataplane: dp, minSyncPeriodMs: 0, syncPeriodMs: 200 });
    runner.start();
    await sleep(650);
    await runner.stop();
    assert.ok(dp.calls.length >= 3, `${dp.calls.length} syncs in 650 ms`);
    assert.ok(dp.calls.every((c) => c.full));
  });
});
