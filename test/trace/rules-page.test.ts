// The /rules page on the metrics server, and `kproxy trace --live` reading it over real HTTP.
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { defaultConfig } from '../../src/config/load.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { clearLastRuleset, lastRuleset, publishRuleset } from '../../src/trace/last-ruleset.js';
import { rulesRoute } from '../../src/trace/rules-page.js';
import { rulesPageAddon } from '../../src/trace/addon.js';
import { createLogger } from '../../src/util/log.js';
import { SAMPLE_RULESET } from './sample-ruleset.js';
import { kproxy } from '../cli/run-kproxy.js';

async function withServer(fn: (base: string) => Promise<void>): Promise<void> {
  const server = await startMetricsServer('127.0.0.1:0', new ProxyMetrics({ processMetrics: false }), { '/rules': rulesRoute });
  try {
    const { port } = server.address() as AddressInfo;
    await fn(`127.0.0.1:${port}`);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('/rules page', () => {
  afterEach(() => clearLastRuleset());

  it('answers 503 until a ruleset was applied, then shows it with the time it was applied', async () => {
    await withServer(async (addr) => {
      const before = await fetch(`http://${addr}/rules`);
      assert.equal(before.status, 503);
      const appliedAt = new Date('2026-01-02T03:04:05Z');
      publishRuleset({ mode: 'nftables', appliedAt, generation: 7, node: 'test-node', nodeAddresses: ['192.168.0.2'], render: () => SAMPLE_RULESET, origin: 'applier' });
      const text = await (await fetch(`http://${addr}/rules`)).text();
      assert.ok(text.startsWith('# kproxy nftables ruleset, applied 2026-01-02T03:04:05.000Z (generation 7, node test-node; as applied)\n'));
      assert.ok(text.endsWith(SAMPLE_RULESET));
      const json = await (await fetch(`http://${addr}/rules?format=json`)).json();
      assert.equal(json.appliedAt, '2026-01-02T03:04:05.000Z');
      assert.deepEqual(json.nodeAddresses, ['192.168.0.2']);
      assert.equal(json.ruleset, SAMPLE_RULESET);
    });
  });

  it('kproxy trace --live traces against the page', async () => {
    publishRuleset({ mode: 'nftables', appliedAt: new Date(), generation: 1, node: 'test-node', nodeAddresses: ['192.168.0.2'], render: () => SAMPLE_RULESET, origin: 'applier' });
    await withServer(async (addr) => {
      const r = await kproxy(['trace', '--live', '--metrics-bind-address', addr, '--src', '203.0.113.2', '--dst', '192.168.0.2', '--dport', '3001', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.verdict, 'DNAT', 'the NodePort is on a node address the page named');
      assert.equal(j.masquerade, true);
      assert.equal(j.endpoints.length, 3);
      const human = await kproxy(['trace', '--live', '--metrics-bind-address', addr, '--src', '10.0.0.2', '--dst', '172.30.0.42', '--dport', '80']);
      assert.match(human.stdout, new RegExp(`ruleset: http://${addr.replace(/\./g, '\\.')}/rules\\?format=json, applied `));
      assert.match(human.stdout, /Verdict: REJECT/);
    });
    const down = await kproxy(['trace', '--live', '--metrics-bind-address', '127.0.0.1:1', '--src', '10.0.0.2', '--dst', '172.30.0.42', '--dport', '80']);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /--live: cannot reach http:\/\/127\.0\.0\.1:1\/rules/);
  });

  it('kproxy run publishes the ruleset of each synced state until the applier publishes its own', async () => {
    const config = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: ['10.0.0.0/8'] };
    const addon = (await rulesPageAddon({ config, log: createLogger(0), metrics: new ProxyMetrics({ processMetrics: false }) }))!;
    assert.ok(addon.routes?.['/rules']);
    const tracker = new ChangeTracker({ nodeName: 'n1', machineAddresses: ['192.168.0.2'] });
    tracker.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'a', name: 's' }, spec: { clusterIP: '10.96.0.1', ports: [{ port: 80 }] } });
    addon.update(tracker.snapshot());
    const got = lastRuleset()!;
    assert.equal(got.origin, 'state');
    assert.match(got.render(), /add element ip kproxy cluster-ips \{ 10\.96\.0\.1 \}/);
    publishRuleset({ ...got, origin: 'applier', render: () => 'applied text' });
    addon.update(tracker.snapshot());
    assert.equal(lastRuleset()!.render(), 'applied text', "the applier's text is not overwritten");
  });
});
