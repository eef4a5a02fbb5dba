// Announcer election: deterministic, per address; Ready, Lease expiry, node selectors,
// the exclusion label and externalTrafficPolicy Local decide who is eligible.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { validateEndpointSlice, validateService } from '../../src/api/validate.js';
import type { EndpointSlice, KubeObject } from '../../src/api/types.js';
import { announcements, nextLeaseExpiry, nodeOrder, type AnnounceInput } from '../../src/lb/announce.js';
import { validateL2Advertisement, validatePool } from '../../src/lb/config.js';
import { leaseFacts, nodeFacts, type LeaseFacts, type NodeFacts } from '../../src/lb/nodes.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function node(name: string, ready: boolean | null = true, labels: Record<string, string> = {}): NodeFacts {
  const o: KubeObject = { kind: 'Node', metadata: { name, labels }, status: ready === null ? {} : { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } };
  return nodeFacts(o)!;
}

function input(opts: { nodes: NodeFacts[]; etp?: 'Cluster' | 'Local'; endpointsOn?: string[]; ads?: Record<string, unknown>[]; leases?: LeaseFacts[] }): AnnounceInput {
  const v = validateService({
    kind: 'Service',
    metadata: { name: 'web', namespace: 'ns' },
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.1', externalTrafficPolicy: opts.etp ?? 'Cluster', ports: [{ port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip: '192.168.1.10' }] } },
  });
  assert.ok(v.ok);
  const p = validatePool({ kind: 'IPAddressPool', metadata: { name: 'lan' }, spec: { addresses: ['192.168.1.0/24'] } });
  assert.ok(p.ok);
  const ads = (opts.ads ?? [{}]).map((spec, i) => {
    const a = validateL2Advertisement({ kind: 'L2Advertisement', metadata: { name: `ad${i}` }, spec });
    assert.ok(a.ok);
    return a.value;
  });
  const s = validateEndpointSlice({
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ port: 8080 }],
    endpoints: (opts.endpointsOn ?? ['n1']).map((n, i) => ({ addresses: [`10.244.0.${i + 1}`], nodeName: n, conditions: { ready: true } })),
  });
  assert.ok(s.ok);
  const slices: EndpointSlice[] = [s.value];
  return {
    services: [{ id: 'ns/web', svc: v.value, ips: ['192.168.1.10'], pool: 'lan' }],
    pools: new Map([['lan', p.value]]),
    advertisements: ads,
    nodes: new Map(opts.nodes.map((n) => [n.name, n])),
    leases: new Map((opts.leases ?? []).map((l) => [l.name, l])),
    slices: () => slices,
    now: NOW,
  };
}

const winner = (i: AnnounceInput) => announcements(i).get('192.168.1.10')!;

test('the winner is the node with the lowest SHA-256 of "node#ip", whatever order nodes arrive in', () => {
  const names = ['n1', 'n2', 'n3', 'n4'];
  const expected = names.map((n) => ({ n, h: createHash('sha256').update(`${n}#192.168.1.10`).digest('hex') })).sort((a, b) => a.h.localeCompare(b.h))[0].n;
  assert.equal(nodeOrder(names, '192.168.1.10')[0], expected);
  assert.equal(winner(input({ nodes: names.map((n) => node(n)) })).node, expected);
  assert.equal(winner(input({ nodes: [...names].reverse().map((n) => node(n)) })).node, expected);
  // Different addresses spread over the nodes.
  const spread = new Set(Array.from({ length: 40 }, (_, i) => nodeOrder(names, `192.168.1.${i}`)[0]));
  assert.equal(spread.size, 4);
});

test('not Ready, NetworkUnavailable, the exclusion label, deletion and an expired Lease make a node ineligible', () => {
  const all = ['n1', 'n2', 'n3'];
  const first = nodeOrder(all, '192.168.1.10')[0];
  const rest = all.filter((n) => n !== first);
  const second = nodeOrder(rest, '192.168.1.10')[0];
  const others = (f: NodeFacts) => [f, ...rest.map((n) => node(n))];
  assert.equal(winner(input({ nodes: others(node(first, false)) })).node, second);
  assert.equal(winner(input({ nodes: others(node(first, true, { 'node.kubernetes.io/exclude-from-external-load-balancers': '' })) })).node, second);
  assert.equal(winner(input({ nodes: others({ ...node(first), networkUnavailable: true }) })).node, second);
  assert.equal(winner(input({ nodes: others({ ...node(first), deleting: true }) })).node, second);
  // No Ready condition at all (a hand-written standalone Node): eligible.
  assert.equal(winner(input({ nodes: others(node(first, null)) })).node, first);
  const lease = (renew: number, seconds: number) =>
    leaseFacts({ kind: 'Lease', metadata: { name: first, namespace: 'kube-node-lease' }, spec: { renewTime: new Date(renew).toISOString(), leaseDurationSeconds: seconds } })!;
  assert.equal(winner(input({ nodes: all.map((n) => node(n)), leases: [lease(NOW - 39_000, 40)] })).node, first);
  assert.equal(winner(input({ nodes: all.map((n) => node(n)), leases: [lease(NOW - 41_000, 40)] })).node, second);
  assert.equal(nextLeaseExpiry(new Map([[first, lease(NOW - 39_000, 40)]]), NOW), NOW + 1000);
  // Leases of other namespaces are not node heartbeats.
  assert.equal(leaseFacts({ kind: 'Lease', metadata: { name: 'x', namespace: 'kube-system' }, spec: {} }), null);
});

test('node selectors and interfaces of the advertisements; no advertisement means no announcement', () => {
  const nodes = [node('n1', true, { edge: 'yes' }), node('n2'), node('n3')];
  const a = winner(input({ nodes, ads: [{ nodeSelectors: [{ matchLabels: { edge: 'yes' } }], interfaces: ['eth1'] }] }));
  assert.equal(a.node, 'n1');
  assert.deepEqual(a.interfaces, ['eth1']);
  const none = winner(input({ nodes, ads: [{ ipAddressPools: ['other'] }] }));
  assert.equal(none.node, null);
  assert.match(none.reason, /no L2Advertisement covers IPAddressPool lan/);
});

test('externalTrafficPolicy Local: only nodes with a serving endpoint; none serving anywhere: nobody', () => {
  const nodes = ['n1', 'n2', 'n3'].map((n) => node(n));
  for (const n of ['n1', 'n2', 'n3']) assert.equal(winner(input({ nodes, etp: 'Local', endpointsOn: [n] })).node, n);
  const off = winner(input({ nodes: [node('n1'), node('n2', false)], etp: 'Local', endpointsOn: ['n2'] }));
  assert.equal(off.node, null);
  assert.match(off.reason, /externalTrafficPolicy Local/);
  assert.equal(winner(input({ nodes, endpointsOn: [] })).node, null);
});
