// Partial syncs checked without root, as knftables' fake checks upstream's: every transaction
// the applier hands nft is applied, in order, onto the ruleset parsed from the ones before
// (the trace parser executes add/delete/flush commands as nft does), and the result must
// equal the parse of a full compile of the same state. Any element, chain or set that a
// partial sync forgets to add, update or delete shows up as a difference.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/apply.js';
import { compileText } from '../../../src/dataplanes/nftables/compile.js';
import { collectText } from '../../../src/dataplanes/nftables/nft.js';
import { ProxyMetrics } from '../../../src/metrics/metrics.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import { parseNft } from '../../../src/trace/nft/index.js';
import type { Ruleset } from '../../../src/trace/nft/ast.js';
import { silentLogger } from '../../../src/util/log.js';
import { config, ep, service, slice, type Obj } from './helpers.js';

/**
 * A canonical, comparable picture of a parsed ruleset. The one deliberate difference: a
 * partial sync leaves a shared pick chain in place when its last user goes (the next full
 * sync prunes it), so pick chains that nothing refers to are left out of the picture.
 */
function dump(rs: Ruleset): unknown {
  const tablesOut = dumpAll(rs);
  for (const t of tablesOut) {
    const text = JSON.stringify([t.chains.map((c) => c.rules), t.sets.map((s) => s.elements)]);
    t.chains = t.chains.filter((c) => !c.name.startsWith('pick-') || text.includes(`goto ${c.name}`));
  }
  return tablesOut;
}

function dumpAll(rs: Ruleset) {
  const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Set ? [...x].sort() : x));
  const tables = [...rs.tables.values()].sort((a, b) => `${a.family} ${a.name}`.localeCompare(`${b.family} ${b.name}`));
  return tables.map((t) => ({
    table: `${t.family} ${t.name}`,
    chains: [...t.chains.values()].sort((a, b) => a.name.localeCompare(b.name)).map((c) => ({ name: c.name, base: json(c.base), rules: c.rules.map((r) => r.text.trim()) })),
    sets: [...t.sets.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => ({
        name: s.name,
        head: json({
          isMap: s.isMap,
          keyTypes: s.keyTypes.map((d) => d.name),
          valueTypes: Array.isArray(s.valueTypes) ? s.valueTypes.map((d) => d.name) : s.valueTypes,
          flags: s.flags,
          timeout: s.timeout,
        }),
        elements: s.raw
          ? [...s.raw].map(([k, v]) => (v === null ? k : `${k} : ${v}`)).sort()
          : [...[...s.exact.entries()].map(([k, e]) => `${k} : ${json(e.value)}`), ...s.ranges.map((e) => json([e.key, e.value]))].sort(),
      })),
  }));
}

/** A small xorshift PRNG: the same scenario on every run. */
function prng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const NODE = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node1', labels: { 'topology.kubernetes.io/zone': 'z1' } },
  spec: { podCIDRs: ['10.0.1.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }] },
};

function randomService(r: (n: number) => number, i: number): Obj[] {
  const name = `svc${i}`;
  const ports = [{ name: 'p80', port: 80, protocol: ['TCP', 'UDP'][r(2)] }, ...(r(3) === 0 ? [{ name: 'p443', port: 443, protocol: 'TCP' }] : [])];
  const type = ['ClusterIP', 'NodePort', 'LoadBalancer'][r(3)];
  const spec: Obj = {
    type,
    clusterIP: `172.30.${i >> 8}.${(i & 255) + 1}`,
    ports: type === 'ClusterIP' ? ports : ports.map((p, j) => ({ ...p, nodePort: 30000 + i * 2 + j })),
    externalTrafficPolicy: type !== 'ClusterIP' && r(2) ? 'Local' : 'Cluster',
    internalTrafficPolicy: r(4) === 0 ? 'Local' : 'Cluster',
    sessionAffinity: r(4) === 0 ? 'ClientIP' : 'None',
  };
  // Some Services share one external IP (the first in key order owns its elements), and a few
  // list their own ClusterIP as an external IP (one port claiming a key twice).
  if (r(3) === 0) spec.externalIPs = [`192.168.99.${r(3) === 0 ? 250 : i + 1}`, ...(r(6) === 0 ? [spec.clusterIP] : [])];
  if (type === 'LoadBalancer' && r(2)) spec.loadBalancerSourceRanges = ['203.0.113.0/24', '192.168.0.0/24'];
  const status = type === 'LoadBalancer' ? { loadBalancer: { ingress: [{ ip: `1.2.${i >> 8}.${(i & 255) + 1}` }] } } : undefined;
  const eps = Array.from({ length: r(5) }, (_, k) =>
    ep(`10.0.${r(3)}.${10 + ((i * 7 + k) % 200)}`, ['node1', 'node2'][r(2)], r(6) === 0 ? { ready: false, serving: true, terminating: true } : undefined),
  );
  const out: Obj[] = [service('ns', name, spec, status)];
  if (eps.length > 0 || r(2))
    out.push(
      slice(
        'ns',
        name,
        eps,
        ports.map((p) => ({ name: p.name, port: 8000 + p.port, protocol: p.protocol })),
      ),
    );
  return out;
}

test('every partial transaction, applied onto the previous ruleset, gives the full compile of the new state', async () => {
  const r = prng(0x5eed);
  const cfg = config();
  const tracker = new ChangeTracker({ nodeName: 'node1', machineAddresses: ['192.168.0.2'] });
  const transactions: string[] = [];
  const dp = new NftablesDataplane(cfg, silentLogger(), new ProxyMetrics().registry, { nft: async (input) => void transactions.push(await collectText(input)) });
  tracker.upsert(NODE as never);
  const live = new Set<number>();
  let kinds = { partial: 0, full: 0 };
  let applied: Ruleset | null = null;

  for (let step = 0; step < 60; step++) {
    const nChanges = 1 + r(4);
    for (let c = 0; c < nChanges; c++) {
      const i = r(25);
      if (live.has(i) && r(3) === 0) {
        tracker.delete('Service', 'ns', `svc${i}`);
        tracker.delete('EndpointSlice', 'ns', `svc${i}-1`);
        live.delete(i);
      } else {
        if (live.has(i) && r(2)) tracker.delete('EndpointSlice', 'ns', `svc${i}-1`);
        for (const o of randomService(r, i)) assert.equal(tracker.upsert(o as never), null);
        live.add(i);
      }
    }
    if (step === 30) tracker.upsert({ ...NODE, metadata: { ...NODE.metadata, labels: { 'topology.kubernetes.io/zone': 'z2' } } } as never);
    const state = tracker.snapshot();
    const full = step === 0 || step % 17 === 0 || state.nodeChanged;
    transactions.length = 0;
    await dp.sync(state, full);
    kinds = { partial: kinds.partial + (full ? 0 : 1), full: kinds.full + (full ? 1 : 0) };
    for (const t of transactions) applied = parseNft(t, { into: applied ?? undefined });
    assert.ok(applied, 'the first sync sent a transaction');
    const expected = parseNft(compileText(state, cfg));
    assert.deepEqual(dump(applied), dump(expected), `step ${step} (${full ? 'full' : 'partial'} sync, ${state.changed.size} changed, ${state.deleted.size} deleted)`);
  }
  assert.ok(kinds.partial >= 50, `${kinds.partial} partial syncs checked`);
});

test('the check catches a partial sync that forgets an element', async () => {
  const cfg = config();
  const tracker = new ChangeTracker({ nodeName: 'node1', machineAddresses: ['192.168.0.2'] });
  const sent: string[] = [];
  const dp = new NftablesDataplane(cfg, silentLogger(), new ProxyMetrics().registry, { nft: async (input) => void sent.push(await collectText(input)) });
  tracker.upsert(service('ns', 'a', { clusterIP: '172.30.0.1', ports: [{ port: 80 }] }) as never);
  await dp.sync(tracker.snapshot(), true);
  tracker.upsert(service('ns', 'b', { clusterIP: '172.30.0.2', ports: [{ port: 80 }] }) as never);
  const state = tracker.snapshot();
  await dp.sync(state, false);
  // Drop the element lines of the partial transaction: the fake must notice.
  const broken = sent[1]
    .split('\n')
    .filter((l) => !l.startsWith('add element'))
    .join('\n');
  const applied = parseNft(broken, { into: parseNft(sent[0]) });
  assert.notDeepEqual(dump(applied), dump(parseNft(compileText(state, cfg))));
});
