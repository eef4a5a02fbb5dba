// Upstream's NoEndpointsMetric cases: the objects go through the model and a real sync runner
// (with a dataplane that records what it is handed), and the Prometheus text is read back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/types.js';
import type { Dataplane } from '../../src/dataplanes/dataplane.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import type { ProxyState } from '../../src/model/types.js';
import { SyncRunner } from '../../src/sync/runner.js';
import { conformanceData } from '../helpers/conformance.js';
import { sampleValue } from '../helpers/prom.js';

interface MetricCase {
  id: string;
  apply: KubeObject[];
  expectedMetrics: { name: string; labels: Record<string, string>; value: number }[];
}

const data = conformanceData();
const cases: MetricCase[] = data?.metricTests ?? [];
const nodeName: string = data?.defaults.environment.nodeName;

if (data)
  describe('conformance: metrics (upstream NoEndpointsMetric)', () => {
    it('has cases to run', () => assert.ok(cases.length >= 7));
    for (const c of cases) {
      it(c.id, async () => {
        const tracker = new ChangeTracker({ nodeName });
        for (const o of c.apply) assert.equal(tracker.upsert(o), null, `${o.kind} ${o.metadata?.name} is valid`);
        const synced: ProxyState[] = [];
        const dataplane: Dataplane = { mode: 'record', sync: async (s) => void synced.push(s) };
        const metrics = new ProxyMetrics();
        const runner = new SyncRunner({ tracker, dataplane, metrics, minSyncPeriodMs: 0, syncPeriodMs: 60_000 });
        runner.start();
        await runner.idle();
        await runner.stop();
        assert.equal(synced.length, 1);
        const text = await metrics.text();
        for (const m of c.expectedMetrics) {
          assert.equal(sampleValue(text, m.name, m.labels), m.value, `${m.name}${JSON.stringify(m.labels)}`);
        }
      });
    }
  });
