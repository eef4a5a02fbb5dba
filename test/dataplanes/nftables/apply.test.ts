import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/apply.js';
import { compileText } from '../../../src/dataplanes/nftables/compile.js';
import { collectText } from '../../../src/dataplanes/nftables/nft.js';
import { ProxyMetrics } from '../../../src/metrics/metrics.js';
import { silentLogger } from '../../../src/util/log.js';
import { config, ep, service, slice, stateOf } from './helpers.js';

const port80 = [{ name: 'p80', port: 80, protocol: 'TCP' }];

function recorder() {
  const texts: string[] = [];
  let fail = false;
  const metrics = new ProxyMetrics();
  const dp = new NftablesDataplane(config(), silentLogger(), metrics.registry, {
    nft: async (input) => {
      texts.push(await collectText(input));
      if (fail) throw new Error('injected');
    },
  });
  return { dp, texts, metrics, failNext: (f: boolean) => (fail = f) };
}

test('the first sync sends exactly what `kproxy rules` prints', async () => {
  const { state } = stateOf([service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: port80 }), slice('ns1', 'svc1', [ep('10.180.0.1', 'node1'), ep('10.180.0.2')], port80)]);
  const { dp, texts } = recorder();
  await dp.sync(state, true);
  assert.equal(dp.lastSync.kind, 'replace');
  assert.equal(texts[0], compileText(state, config()));
});

test('partial syncs touch only the changed service port; periodic full syncs keep affinity sets', async () => {
  const objs = [
    service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: port80 }),
    slice('ns1', 'svc1', [ep('10.180.0.1', 'node1'), ep('10.180.0.2')], port80),
    service('ns2', 'svc2', { clusterIP: '172.30.0.42', sessionAffinity: 'ClientIP', ports: port80 }),
    slice('ns2', 'svc2', [ep('10.180.0.3', 'node1')], port80),
  ];
  const { tracker, state } = stateOf(objs);
  const { dp, texts } = recorder();
  await dp.sync(state, true);
  tracker.upsert(slice('ns1', 'svc1', [ep('10.180.0.1', 'node1'), ep('10.180.0.9')], port80) as never);
  await dp.sync(tracker.snapshot(), false);
  assert.equal(dp.lastSync.kind, 'partial');
  assert.deepEqual(texts[1].trim().split('\n'), [
    'delete element ip kproxy service-endpoints-tcp { 172.30.0.41 . 80 . 1 }',
    'add element ip kproxy service-endpoints-tcp { 172.30.0.41 . 80 . 1 : 10.180.0.9 . 80 }',
  ]);
  // Nothing changed: no transaction at all.
  await dp.sync(tracker.snapshot(), false);
  assert.equal(texts.length, 2);
  assert.equal(dp.lastSync.kind, 'none');
  // Deleting a Service removes its elements, then its chains.
  tracker.delete('Service', 'ns1', 'svc1');
  await dp.sync(tracker.snapshot(), false);
  const del = texts[2].trim().split('\n');
  assert.ok(del.includes('delete element ip kproxy service-ips { 172.30.0.41 . tcp . 80 }'));
  assert.ok(del.indexOf('delete chain ip kproxy service-ULMVA6XW-ns1/svc1/tcp/p80') > del.findIndex((l) => l.startsWith('delete element')));
  // A periodic full sync rewrites in place and never flushes an affinity set.
  await dp.sync(tracker.snapshot(), true);
  assert.equal(dp.lastSync.kind, 'full');
  assert.ok(texts[3].includes('flush table ip kproxy'));
  assert.ok(!texts[3].includes('delete table'));
  assert.ok(!/flush set ip kproxy affinity-/.test(texts[3]));
  assert.ok(/add set ip kproxy affinity-/.test(texts[3]));
});

test('a failed transaction is counted, thrown, and followed by a clean replace', async () => {
  const { tracker, state } = stateOf([service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: port80 })]);
  const { dp, texts, metrics, failNext } = recorder();
  await dp.sync(state, true);
  tracker.upsert(slice('ns1', 'svc1', [ep('10.180.0.1', 'node1')], port80) as never);
  failNext(true);
  await assert.rejects(dp.sync(tracker.snapshot(), false), /injected/);
  failNext(false);
  assert.match(await metrics.registry.metrics(), /kubeproxy_sync_proxy_rules_nftables_sync_failures_total 1/);
  await dp.sync(tracker.snapshot(), false); // even asked for a partial sync, it replaces
  assert.equal(dp.lastSync.kind, 'replace');
  assert.ok(texts.at(-1)!.startsWith('add table ip kproxy\ndelete table ip kproxy\n'));
});
