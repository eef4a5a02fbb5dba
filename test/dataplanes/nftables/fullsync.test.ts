// The full sync's text is built in one pass (fullsync.ts), without the line arrays that
// renderTable uses for `kproxy rules`; both must print the very same transaction, including
// where two service ports claim one element (only the first in key order is written).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { AppliedRuleset } from '../../../src/dataplanes/dataplane.js';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/apply.js';
import { compileText } from '../../../src/dataplanes/nftables/compile.js';
import { collectText } from '../../../src/dataplanes/nftables/nft.js';
import { ProxyMetrics } from '../../../src/metrics/metrics.js';
import { silentLogger } from '../../../src/util/log.js';
import { servedText } from '../../rules/served-text.js';
import { config, ep, service, slice, stateOf, type Obj } from './helpers.js';

function objects(): Obj[] {
  const out: Obj[] = [];
  for (let i = 0; i < 40; i++) {
    const type = ['ClusterIP', 'NodePort', 'LoadBalancer'][i % 3];
    const ports = [{ name: 'http', port: 80, protocol: 'TCP' }, ...(i % 4 === 0 ? [{ name: 'dns', port: 53, protocol: 'UDP' }] : [])];
    const spec: Obj = {
      type,
      clusterIP: `172.30.0.${i + 1}`,
      ports: type === 'ClusterIP' ? ports : ports.map((p, j) => ({ ...p, nodePort: 30000 + i * 2 + j })),
      externalTrafficPolicy: i % 5 === 0 && type !== 'ClusterIP' ? 'Local' : 'Cluster',
      sessionAffinity: i % 7 === 0 ? 'ClientIP' : 'None',
      // Services 3, 6, 9 … share one external IP and port: the same elements, claimed thrice.
      ...(i % 3 === 0 ? { externalIPs: ['192.168.99.1'] } : {}),
    };
    const status = type === 'LoadBalancer' ? { loadBalancer: { ingress: [{ ip: `1.2.3.${i}` }] } } : undefined;
    out.push(service('ns', `svc${i}`, spec, status));
    const eps = Array.from({ length: i % 6 }, (_, k) => ep(`10.0.${k % 2}.${10 + ((i * 3 + k) % 50)}`, k % 2 ? 'node1' : 'node2'));
    out.push(
      slice(
        'ns',
        `svc${i}`,
        eps,
        ports.map((p) => ({ name: p.name, port: 8000 + p.port, protocol: p.protocol })),
      ),
    );
  }
  return out;
}

test('a full sync writes exactly what `kproxy rules` prints, shared elements once', async () => {
  const { state } = stateOf(objects(), 'node1');
  const texts: string[] = [];
  const dp = new NftablesDataplane(config(), silentLogger(), new ProxyMetrics().registry, { nft: async (input) => void texts.push(await collectText(input)) });
  await dp.sync(state, true);
  const expected = compileText(state, config());
  assert.equal(texts[0], expected);
  // The shared external IP is in service-ips once, owned by the first Service in key order.
  const lines = expected.split('\n').filter((l) => l.startsWith('add element ip kproxy service-ips '));
  const claims = lines.join(' ').match(/192\.168\.99\.1 \. tcp \. 80 : goto external-\S+/g) ?? [];
  assert.equal(claims.length, 1);
  assert.equal(dp.lastSync.lines, expected.split('\n').length - 1);
});

test('the published ruleset (/rules) prints what `kproxy rules` prints for the committed state, after full and partial syncs', async () => {
  const { tracker, state } = stateOf(objects(), 'node1');
  let published: AppliedRuleset | null = null;
  const dp = new NftablesDataplane(config(), silentLogger(), new ProxyMetrics().registry, {
    nft: async (input) => void (await collectText(input)),
    publishRuleset: (r) => (published = r),
  });
  await dp.sync(state, true);
  assert.equal(published!.render(), compileText(state, config()));
  // What the page serves, rendered in slices, is the same text (plain and in JSON).
  assert.deepEqual(await servedText(published!), { text: compileText(state, config()), json: compileText(state, config()) });
  // Partial syncs add ports at the end of the committed map, out of key order; the page must
  // still print them in key order, and drop what was deleted.
  tracker.upsert(service('ns', 'aaa-new', { clusterIP: '172.30.1.1', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }) as never);
  tracker.upsert(slice('ns', 'aaa-new', [ep('10.0.0.99', 'node1'), ep('10.0.1.98', 'node2')], [{ name: 'http', port: 8080, protocol: 'TCP' }]) as never);
  tracker.delete('Service', 'ns', 'svc7');
  const next = tracker.snapshot();
  await dp.sync(next, false);
  assert.equal(dp.lastSync.kind, 'partial');
  const text = published!.render();
  assert.equal(text, compileText(next, config()));
  assert.deepEqual(await servedText(published!), { text, json: text });
  assert.match(text, /aaa-new/);
  assert.doesNotMatch(text, /\/svc7\//);
});
