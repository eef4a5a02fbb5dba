import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ProxierHealth } from '../../src/health/proxier.js';
import { startHealthServer } from '../../src/health/server.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { sampleValue } from '../helpers/prom.js';

describe('health and metrics servers', () => {
  it('answers /healthz and /livez as kube-proxy does and counts the answers', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const health = new ProxierHealth(60_000, () => now);
    const metrics = new ProxyMetrics();
    const server = await startHealthServer('127.0.0.1:0', health, metrics);
    const metricsServer = await startMetricsServer('127.0.0.1:0', metrics);
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      health.updated();
      let r = await fetch(`${base}/healthz`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.deepEqual(await r.json(), { lastUpdated: '2026-11-21T10:00:00.000Z', currentTime: '2026-11-21T10:00:00.000Z', nodeEligible: true });
      health.queuedUpdate();
      now += 61_000;
      r = await fetch(`${base}/healthz`);
      assert.equal(r.status, 503);
      r = await fetch(`${base}/livez`);
      assert.equal(r.status, 503);
      assert.equal('nodeEligible' in (await r.json()), false);
      assert.equal((await fetch(`${base}/other`)).status, 404);
      const text = await (await fetch(`http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}/metrics`)).text();
      assert.equal(sampleValue(text, 'kubeproxy_proxy_healthz_total', { code: '200' }), 1);
      assert.equal(sampleValue(text, 'kubeproxy_proxy_healthz_total', { code: '503' }), 1);
      assert.equal(sampleValue(text, 'kubeproxy_proxy_livez_total', { code: '503' }), 1);
      assert.match(text, /kubeproxy_sync_proxy_rules_duration_seconds_bucket\{le="262.144"\}/, 'buckets reach past 16.384 s');
    } finally {
      server.close();
      metricsServer.close();
    }
  });
});
