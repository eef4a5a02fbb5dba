// The /rules page on the metrics server, and `kproxy trace --live` reading it over real HTTP.
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { defaultConfig } from '../../src/config/load.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { RulesetStore } from '../../src/rules/store.js';
import { rulesRoute } from '../../src/rules/page.js';
import { rulesPageAddon } from '../../src/rules/addon.js';
import { NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { compileText } from '../../src/dataplanes/nftables/compile.js';
import { createLogger } from '../../src/util/log.js';
import { SAMPLE_RULESET } from '../trace/sample-ruleset.js';
import { kproxy } from '../cli/run-kproxy.js';

let store = new RulesetStore();
const publishRuleset = (r: Parameters<RulesetStore['publish']>[0]) => store.publish(r);

async function withServer(fn: (base: string) => Promise<void>): Promise<void> {
  const server = await startMetricsServer('127.0.0.1:0', new ProxyMetrics({ processMetrics: false }), { '/rules': rulesRoute(store) });
  try {
    const { port } = server.address() as AddressInfo;
    await fn(`127.0.0.1:${port}`);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('/rules page', () => {
  afterEach(() => (store = new RulesetStore()));

  it('answers 503 until a ruleset was applied, then shows it with the time it was applied', async () => {
    await withServer(async (addr) => {
      const before = await fetch(`http://${addr}/rules`);
      assert.equal(before.status, 503);
      const appliedAt = new Date('2026-01-02T03:04:05Z');
      publishRuleset({ mode: 'nftables', appliedAt, generation: 7, node: 'test-node', nodeAddresses: ['192.168.0.2'], render: () => SAMPLE_RULESET });
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
    publishRuleset({ mode: 'nftables', appliedAt: new Date(), generation: 1, node: 'test-node', nodeAddresses: ['192.168.0.2'], render: () => SAMPLE_RULESET });
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

  it('the nftables applier publishes what it committed: after partial syncs it equals a full compile of the state', async () => {
    const config = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: ['10.0.0.0/8'] };
    const metrics = new ProxyMetrics({ processMetrics: false });
    const addon = (await rulesPageAddon({ config, log: createLogger(0), metrics, rules: store }))!;
    assert.ok(addon.routes?.['/rules']);
    const transactions: string[] = [];
    const dp = new NftablesDataplane(config, createLogger(0), metrics.registry, {
      nft: async (text) => {
        let t = '';
        for await (const chunk of typeof text === 'string' ? [text] : text) t += chunk;
        transactions.push(t);
      },
      publishRuleset: store.publish,
    });
    const tracker = new ChangeTracker({ nodeName: 'n1', machineAddresses: ['192.168.0.2'] });
    const svc = (name: string, ip: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'a', name }, spec: { clusterIP: ip, ports: [{ port: 80 }] } });
    tracker.upsert(svc('s', '10.96.0.1'));
    await dp.sync(tracker.snapshot(), true);
    tracker.upsert(svc('t', '10.96.0.2'));
    const state = tracker.snapshot();
    await dp.sync(state, false);
    assert.equal(transactions.length, 2);
    assert.ok(!transactions[1].includes('10.96.0.1'), 'the second sync was partial');
    const got = store.current()!;
    assert.equal(got.generation, state.generation);
    assert.equal(got.render(), compileText(state, config));
  });
});
