// The /rules page renders a large ruleset in slices: while it renders, the event loop keeps
// turning (timers fire, other requests are answered), where rendering in one piece held it
// for the whole render. Requests for one ruleset share one render, and a sync that publishes
// a new ruleset during a render does not mix the two: each request gets the whole ruleset
// that was current when it arrived, and says which (header and first line).
//
// Not a timed speed assertion: the stall is compared with the one-piece render's stall in the
// same run (it is many times longer), and the structure is checked (the render handed the
// loop back many times).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultConfig } from '../../src/config/load.js';
import type { AppliedRuleset } from '../../src/dataplanes/dataplane.js';
import { RENDER_SLICE_PORTS } from '../../src/dataplanes/dataplane.js';
import { familyContext, FAMILIES, portsOf } from '../../src/dataplanes/nftables/compile.js';
import { replaceChunks, replaceText } from '../../src/dataplanes/nftables/fullsync.js';
import { compileText as iptablesText, compileTextChunks as iptablesChunks } from '../../src/dataplanes/iptables/text.js';
import { NODE, serviceObject, sliceObject } from '../../src/bench/cluster.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import type { ProxyState } from '../../src/model/types.js';
import { rulesRoute, servedRuleset } from '../../src/rules/page.js';
import { RulesetStore } from '../../src/rules/store.js';
import { servedText } from './served-text.js';
import { textOf } from '../../src/util/byte-text.js';

const config = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: ['10.244.0.0/16'], serviceClusterIPRange: ['10.96.0.0/12'] };

/** n ClusterIP Services × 10 endpoints (the benchmarks' cluster). */
function cluster(n: number): ChangeTracker {
  const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.50.1'] });
  for (let i = 0; i < n; i++) {
    tracker.upsert(serviceObject(i) as never);
    tracker.upsert(sliceObject(i, n, 10) as never);
  }
  return tracker;
}

/** The ruleset as the nftables applier publishes it; `sliced` false: as before, one piece. */
function nftRuleset(state: ProxyState, sliced = true): AppliedRuleset {
  const tables = FAMILIES.map((family) => {
    const fc = familyContext(family, config, state.node);
    return { family, fc, ports: portsOf(state, fc.ipFamily) };
  });
  return {
    mode: 'nftables',
    appliedAt: new Date(),
    generation: state.generation,
    node: state.node.name,
    nodeAddresses: state.node.addresses,
    render: () => replaceText(tables),
    ...(sliced ? { chunks: () => replaceChunks(tables, RENDER_SLICE_PORTS) } : {}),
  };
}

/** Runs fn and measures the longest time the event loop went without running a 1 ms timer. */
async function longestStall(fn: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  };
  const timer = setInterval(tick, 1);
  try {
    await new Promise((r) => setTimeout(r, 5));
    last = performance.now();
    longest = 0;
    await fn();
    tick();
  } finally {
    clearInterval(timer);
  }
  return longest;
}

function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    })
      .on('error', reject)
      .end();
  });
}

const N = 10_000;
const big = cluster(N).snapshot();

test(`/rules at ${N.toLocaleString('en')} Services × 10: the render hands the event loop back; one piece held it throughout`, async (t) => {
  const whole = servedRuleset();
  let before: Buffer | null = null;
  const oneStall = await longestStall(async () => (before = Buffer.concat((await whole.body(nftRuleset(big, false), 'text', false)).parts)));
  // A zero budget hands the loop back after every slice, whatever the machine's speed (with a
  // time budget the number of pauses would follow how fast this machine renders).
  const sliced = servedRuleset(0);
  let after: Buffer | null = null;
  const slicedStall = await longestStall(async () => (after = Buffer.concat((await sliced.body(nftRuleset(big), 'text', false)).parts)));
  t.diagnostic(`longest stall: ${oneStall.toFixed(1)} ms in one piece, ${slicedStall.toFixed(1)} ms in slices (${sliced.stats.pauses} pauses)`);
  assert.ok(whole.stats.pauses <= 2, 'one piece: at most a pause after it');
  assert.ok(sliced.stats.pauses >= N / RENDER_SLICE_PORTS, `the render paused ${sliced.stats.pauses} times, fewer than one per ${RENDER_SLICE_PORTS} ports`);
  assert.ok(slicedStall < oneStall / 2, `longest stall ${slicedStall.toFixed(1)} ms in slices against ${oneStall.toFixed(1)} ms in one piece`);
  const textOf = (b: Buffer) => b.subarray(b.indexOf(10) + 1); // without the header line (its time differs)
  assert.ok(textOf(after!).equals(textOf(before!)), 'the same ruleset text');
});

test('requests share one render; a ruleset published during a render does not mix with it', async () => {
  const tracker = cluster(2_000);
  const first = nftRuleset(tracker.snapshot());
  tracker.delete('Service', 'bench', 'svc-1'); // anything that changes the text
  tracker.upsert({ ...(serviceObject(100_000) as object), metadata: { namespace: 'default', name: 'added-during-render' } } as never);
  const second = nftRuleset(tracker.snapshot());
  assert.notEqual(first.generation, second.generation);
  const store = new RulesetStore();
  const served = servedRuleset(1);
  const server = await startMetricsServer('127.0.0.1:0', new ProxyMetrics({ processMetrics: false }), { '/rules': rulesRoute(store, { served }) });
  const { port } = server.address() as AddressInfo;
  try {
    store.publish(first);
    const early = [get(port, '/rules'), get(port, '/rules'), get(port, '/rules?format=json')];
    while (served.stats.pauses < 3) await new Promise((r) => setImmediate(r));
    assert.equal(served.stats.renders, 1, 'three requests, one render');
    store.publish(second); // a sync, while the first render is under way
    const late = await get(port, '/rules');
    const [a, b, j] = await Promise.all(early);
    assert.equal(served.stats.renders, 2);
    const firstText = first.render();
    const secondText = second.render();
    for (const r of [a, b]) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-ruleset-generation'], String(first.generation));
      assert.equal(r.body.slice(r.body.indexOf('\n') + 1), firstText);
      assert.match(r.body.slice(0, r.body.indexOf('\n')), new RegExp(`^# kproxy nftables ruleset, applied \\S+ \\(generation ${first.generation},`));
    }
    assert.equal(JSON.parse(j.body).ruleset, firstText);
    assert.equal(late.headers['x-ruleset-generation'], String(second.generation));
    assert.equal(late.body.slice(late.body.indexOf('\n') + 1), secondText);
    assert.ok(secondText.includes('added-during-render') && !firstText.includes('added-during-render'));
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('a client that hangs up during the render costs nothing more: its slot comes back, the render is served to the next', async () => {
  const r = nftRuleset(cluster(2_000).snapshot());
  const store = new RulesetStore();
  store.publish(r);
  const served = servedRuleset(1);
  const server = await startMetricsServer('127.0.0.1:0', new ProxyMetrics({ processMetrics: false }), { '/rules': rulesRoute(store, { served, concurrency: 1 }) });
  const { port } = server.address() as AddressInfo;
  try {
    const gone = request({ host: '127.0.0.1', port, path: '/rules' });
    gone.on('error', () => {});
    gone.end();
    while (served.stats.pauses < 3) await new Promise((res) => setImmediate(res));
    gone.destroy();
    await served.body(r, 'text', false); // the render goes on to its end
    let answer = await get(port, '/rules');
    for (let i = 0; i < 50 && answer.status === 503; i++) answer = await new Promise((res) => setTimeout(res, 20)).then(() => get(port, '/rules'));
    assert.equal(answer.status, 200, 'the one slot was given back');
    assert.equal(answer.body.slice(answer.body.indexOf('\n') + 1), r.render());
    assert.equal(served.stats.renders, 1);
  } finally {
    await new Promise((res) => server.close(res));
  }
});

test('the iptables page in slices is `kproxy rules` text, both families, both page forms', async () => {
  const iptables = { ...config, mode: 'iptables' as const, clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/48'], serviceClusterIPRange: ['10.96.0.0/12', 'fd00:10:96::/112'] };
  const tracker = cluster(300);
  const v6 = (i: number) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'six', name: `svc${i}` },
    spec: { type: i % 2 ? 'NodePort' : 'ClusterIP', ipFamilies: ['IPv6'], clusterIP: `fd00:10:96::${(i + 1).toString(16)}`, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  });
  for (let i = 0; i < 40; i++) {
    tracker.upsert(v6(i) as never);
    tracker.upsert({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'six', name: `svc${i}-1`, labels: { 'kubernetes.io/service-name': `svc${i}` } },
      addressType: 'IPv6',
      endpoints: [{ addresses: [`fd00:10:244::${i + 10}`], nodeName: NODE, conditions: { ready: true } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    } as never);
  }
  const state = tracker.snapshot();
  const expected = iptablesText(state, iptables);
  assert.ok(expected.includes('ip6tables-restore') && expected.includes('fd00:10:244::49'), 'both families');
  assert.equal(textOf([...iptablesChunks(state, iptables, 7)]), expected);
  // The text around the per-service rules (chain declarations, top-level rules) is rendered in
  // steps too: after the IPv4 header, a pause at least every 7 ports' declarations.
  const chunks = [...iptablesChunks(state, iptables, 7)];
  const header = chunks.findIndex((c) => typeof c === 'string' && c.startsWith('# IPv4:'));
  const end = chunks.findIndex((c) => typeof c === 'string' && c.startsWith('# IPv6:'));
  const v4ports = state.servicePorts.size - 40;
  assert.ok(chunks.slice(header, end).filter((c) => c.length === 0).length >= v4ports / 7, 'pauses while the IPv4 text is rendered');
  const r: AppliedRuleset = {
    mode: 'iptables',
    appliedAt: new Date(),
    generation: state.generation,
    node: NODE,
    nodeAddresses: [],
    render: () => iptablesText(state, iptables),
    chunks: () => iptablesChunks(state, iptables, RENDER_SLICE_PORTS),
  };
  assert.deepEqual(await servedText(r), { text: expected, json: expected });
});

test('a render that fails is not kept: the next request renders again', async () => {
  let calls = 0;
  const r: AppliedRuleset = {
    mode: 'nftables',
    appliedAt: new Date(),
    generation: 1,
    node: NODE,
    nodeAddresses: [],
    render: () => 'unused\n',
    chunks: function* () {
      calls++;
      yield 'table ip kproxy\n';
      yield '';
      if (calls === 1) throw new Error('render failed');
      yield 'rest\n';
    },
  };
  const served = servedRuleset(0);
  await assert.rejects(served.body(r, 'text', true), /render failed/);
  const body = Buffer.concat((await served.body(r, 'text', false)).parts).toString('utf8');
  assert.equal(body.slice(body.indexOf('\n') + 1), 'table ip kproxy\nrest\n');
  assert.equal(served.stats.renders, 2);
});

test('a render in bytes: served as they are, and in JSON with a character cut between two chunks kept whole', async () => {
  const text = 'add rule ip kproxy x comment "café ☕"\n'.repeat(50);
  const bytes = Buffer.from(text, 'utf8');
  const cut = bytes.indexOf(Buffer.from('☕', 'utf8')) + 1; // inside the 3-byte character
  const r: AppliedRuleset = {
    mode: 'nftables',
    appliedAt: new Date(),
    generation: 3,
    node: NODE,
    nodeAddresses: [],
    render: () => text,
    chunks: () => [bytes.subarray(0, cut), new Uint8Array(0), bytes.subarray(cut)],
  };
  assert.deepEqual(await servedText(r), { text, json: text });
});
