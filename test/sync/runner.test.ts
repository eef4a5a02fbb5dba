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
import { FakeClock } from '../helpers/clock.js';

class Recorder implements Dataplane {
  readonly mode = 'record';
  calls: { generation: number; full: boolean; changed: string[]; at: number }[] = [];
  failNext = 0;
  constructor(private readonly clock: FakeClock) {}
  async sync(state: ProxyState, full: boolean) {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected failure');
    }
    this.calls.push({ generation: state.generation, full, changed: [...state.changed], at: this.clock.now() });
  }
}

describe('SyncRunner', () => {
  it('syncs fully at start, then partially, at most once per minSyncPeriod', async () => {
    const clock = new FakeClock();
    const tracker = new ChangeTracker({ nodeName: 'n1' });
    const dp = new Recorder(clock);
    const runner = new SyncRunner({ tracker, dataplane: dp, minSyncPeriodMs: 150, syncPeriodMs: 60_000, clock });
    tracker.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    runner.start();
    await clock.advance(0);
    assert.equal(dp.calls.length, 1);
    for (let i = 0; i < 10; i++) {
      tracker.upsert(service('ns', `b${i}`, { clusterIP: `10.96.1.${i + 1}`, ports: [{ port: 80 }] }));
      runner.requestSync();
    }
    await clock.advance(149);
    assert.equal(dp.calls.length, 1, 'nothing before minSyncPeriod has passed');
    await clock.advance(1);
    await runner.stop();
    assert.equal(dp.calls.length, 2, 'ten requests coalesced into one sync');
    assert.equal(dp.calls[0].full, true);
    assert.equal(dp.calls[1].full, false);
    assert.equal(dp.calls[1].changed.length, 10);
    assert.equal(dp.calls[1].at - dp.calls[0].at, 150, 'the second sync ran exactly when minSyncPeriod allowed');
  });

  it('retries a failed sync with a full one after the backoff and counts the failure', async () => {
    const clock = new FakeClock();
    const tracker = new ChangeTracker({ nodeName: 'n1' });
    const dp = new Recorder(clock);
    const metrics = new ProxyMetrics();
    const errors: number[] = [];
    const runner = new SyncRunner({ tracker, dataplane: dp, metrics, minSyncPeriodMs: 0, syncPeriodMs: 60_000, onError: (_e, n) => errors.push(n), clock });
    runner.start();
    await clock.advance(0);
    dp.failNext = 2;
    tracker.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    runner.requestSync();
    await clock.advance(0);
    assert.deepEqual(errors, [1]);
    await clock.advance(999);
    assert.deepEqual(errors, [1], 'no retry before the first backoff (1 s)');
    await clock.advance(1);
    assert.deepEqual(errors, [1, 2]);
    await clock.advance(1999);
    assert.equal(dp.calls.length, 1, 'the second backoff doubles to 2 s');
    await clock.advance(1);
    await runner.stop();
    assert.equal(dp.calls.length, 2);
    assert.equal(dp.calls[1].full, true, 'the retry is a full sync');
    assert.equal(sampleValue(await metrics.text(), 'kproxy_sync_failures_total', { mode: 'record' }), 2);
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
    const clock = new FakeClock();
    const tracker = new ChangeTracker({ nodeName: 'n1' });
    const dp = new Recorder(clock);
    const runner = new SyncRunner({ tracker, dataplane: dp, minSyncPeriodMs: 0, syncPeriodMs: 200, clock });
    runner.start();
    await clock.advance(650);
    await runner.stop();
    assert.deepEqual(
      dp.calls.map((c) => c.at - dp.calls[0].at),
      [0, 200, 400, 600],
    );
    assert.ok(dp.calls.every((c) => c.full));
    assert.equal(clock.pending, 0, 'stop() leaves no timer behind');
  });

  it('a change of this node (labels, addresses) makes the next sync full', async () => {
    const clock = new FakeClock();
    const tracker = new ChangeTracker({ nodeName: 'n1' });
    const dp = new Recorder(clock);
    const runner = new SyncRunner({ tracker, dataplane: dp, minSyncPeriodMs: 0, syncPeriodMs: 60_000, clock });
    runner.start();
    await clock.advance(0);
    tracker.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    runner.requestSync();
    await clock.advance(0);
    tracker.upsert({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z1' } } } as never);
    runner.requestSync();
    await clock.advance(0);
    await runner.stop();
    assert.deepEqual(
      dp.calls.map((c) => c.full),
      [true, false, true],
    );
  });
});
