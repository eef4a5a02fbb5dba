import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateEndpointSlice } from '../../../src/api/validate.js';
import type { KubeObject } from '../../../src/api/types.js';
import type { Pod } from '../../../src/sources/pods/pod.js';
import { buildEndpointSlices, CONTROLLER_NAME, MANAGED_BY_LABEL, type SlicePodView } from '../../../src/sources/pods/slices.js';
import { pod, svc, zones } from './slice-fixtures.js';

const view = (p: Pod, ready = true, terminating = p.deleting): SlicePodView => ({ pod: p, ready, terminating });
const ctx = { zoneOf: (n: string) => zones[n] ?? '' };
type Ep = {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  zone?: string;
  hostname?: string;
  hints?: unknown;
  targetRef?: { name: string };
};
const eps = (s: KubeObject) => s.endpoints as Ep[];

test('slices hold at most 100 endpoints, one address type each, and validate as real EndpointSlices', () => {
  const s = svc({ ipFamilyPolicy: 'PreferDualStack', clusterIPs: ['10.96.0.10', 'fd00::10'], ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  const pods = Array.from({ length: 250 }, (_, i) => view(pod(`p${String(i).padStart(3, '0')}`, { ip: [`10.0.${i >> 8}.${i & 255}`, `fd00::${(i + 1).toString(16)}`] })));
  const slices = buildEndpointSlices(s, pods, ctx);
  const v4 = slices.filter((x) => x.addressType === 'IPv4');
  const v6 = slices.filter((x) => x.addressType === 'IPv6');
  assert.deepEqual(
    v4.map((x) => eps(x).length),
    [100, 100, 50],
  );
  assert.deepEqual(
    v6.map((x) => eps(x).length),
    [100, 100, 50],
  );
  for (const x of slices) {
    const v = validateEndpointSlice(x);
    assert.ok(v.ok, JSON.stringify(!v.ok && v.error));
    assert.equal(x.metadata!.labels!['kubernetes.io/service-name'], 'web');
    assert.equal(x.metadata!.labels![MANAGED_BY_LABEL], CONTROLLER_NAME);
    assert.equal(x.metadata!.labels!.team, 'a', 'the Service labels are copied');
    assert.match(x.metadata!.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual((x.metadata!.ownerReferences as { kind: string; name: string }[])[0].kind, 'Service');
    assert.deepEqual(x.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  }
  assert.equal(new Set(slices.map((x) => x.metadata!.name)).size, slices.length, 'names are unique');
  assert.deepEqual(buildEndpointSlices(s, pods, ctx), slices, 'deterministic');
});

test('a named targetPort is resolved per Pod: different numbers make different slices, a Pod without the name lacks the port', () => {
  const s = svc({
    ports: [
      { name: 'http', port: 80, targetPort: 'http' },
      { name: 'metrics', port: 9090, targetPort: 9100 },
    ],
  });
  const slices = buildEndpointSlices(
    s,
    [
      view(pod('a', { ip: '10.0.0.1', ports: [{ name: 'http', containerPort: 8080 }] })),
      view(pod('b', { ip: '10.0.0.2', ports: [{ name: 'http', containerPort: 9000 }] })),
      view(pod('c', { ip: '10.0.0.3', ports: [{ name: 'other', containerPort: 1 }] })),
    ],
    ctx,
  );
  const byIP = new Map(slices.flatMap((x) => eps(x).map((e) => [e.addresses[0], x.ports] as const)));
  assert.equal(slices.length, 3);
  assert.deepEqual(byIP.get('10.0.0.1'), [
    { name: 'http', port: 8080, protocol: 'TCP' },
    { name: 'metrics', port: 9100, protocol: 'TCP' },
  ]);
  assert.deepEqual(byIP.get('10.0.0.2'), [
    { name: 'http', port: 9000, protocol: 'TCP' },
    { name: 'metrics', port: 9100, protocol: 'TCP' },
  ]);
  assert.deepEqual(byIP.get('10.0.0.3'), [{ name: 'metrics', port: 9100, protocol: 'TCP' }]);
  // A UDP service port does not match a TCP container port of the same name.
  const udp = svc({ ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' }] });
  const u = buildEndpointSlices(
    udp,
    [view(pod('d', { ports: [{ name: 'dns', containerPort: 5353 }] })), view(pod('e', { ip: '10.0.0.5', ports: [{ name: 'dns', containerPort: 5354, protocol: 'UDP' }] }))],
    ctx,
  );
  assert.deepEqual(
    u.map((x) => x.ports),
    [[], [{ name: 'dns', port: 5354, protocol: 'UDP' }]],
  );
});

test('conditions: ready/serving/terminating as the controller sets them; terminal and IP-less Pods are left out', () => {
  const s = svc({ ports: [{ port: 80 }] });
  const slices = buildEndpointSlices(
    s,
    [
      view(pod('ready', { ip: '10.0.0.1' })),
      view(pod('unready', { ip: '10.0.0.2' }), false),
      view(pod('term', { ip: '10.0.0.3', deleting: true })),
      view(pod('term-unready', { ip: '10.0.0.4', deleting: true }), false),
      view(pod('done', { ip: '10.0.0.5', phase: 'Succeeded' })),
      view(pod('noip', { ip: [] })),
    ],
    ctx,
  );
  const c = Object.fromEntries(eps(slices[0]).map((e) => [e.targetRef!.name, e.conditions]));
  assert.deepEqual(c, {
    ready: { ready: true, serving: true, terminating: false },
    unready: { ready: false, serving: false, terminating: false },
    term: { ready: false, serving: true, terminating: true },
    'term-unready': { ready: false, serving: false, terminating: true },
  });
  const pub = buildEndpointSlices(svc({ ports: [{ port: 80 }], publishNotReadyAddresses: true }), [view(pod('unready'), false)], ctx);
  assert.deepEqual(eps(pub[0])[0].conditions, { ready: true, serving: false, terminating: false });
});

test('nodeName, zone from the Node label, hostname only for the subdomain Service, hints for PreferClose', () => {
  const plain = buildEndpointSlices(
    svc({ ports: [{ port: 80 }] }),
    [view(pod('a', { node: 'node-a', hostname: 'h-a', subdomain: 'web' })), view(pod('b', { ip: '10.0.0.2', node: 'node-c', hostname: 'h-b', subdomain: 'other' }))],
    ctx,
  );
  const [a, b] = eps(plain[0]);
  assert.equal(a.nodeName, 'node-a');
  assert.equal(a.zone, 'zone-a');
  assert.equal(a.hostname, 'h-a');
  assert.equal(a.hints, undefined);
  assert.equal(b.zone, undefined, 'a Node without a zone label gives no zone');
  assert.equal(b.hostname, undefined);

  const close = buildEndpointSlices(
    svc({ ports: [{ port: 80 }], trafficDistribution: 'PreferClose' }),
    [
      view(pod('a', { node: 'node-a' })),
      view(pod('b', { ip: '10.0.0.2', node: 'node-b' })),
      view(pod('c', { ip: '10.0.0.3', node: 'node-b' }), false),
      view(pod('d', { ip: '10.0.0.4', node: 'node-x' })),
    ],
    ctx,
  );
  assert.deepEqual(
    eps(close[0]).map((e) => e.hints),
    [{ forZones: [{ name: 'zone-a' }] }, { forZones: [{ name: 'zone-b' }] }, undefined, undefined],
  );
  const node = buildEndpointSlices(svc({ ports: [{ port: 80 }], trafficDistribution: 'PreferSameNode' }), [view(pod('a', { node: 'node-a' }))], ctx);
  assert.deepEqual(eps(node[0])[0].hints, { forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'node-a' }] });
  // The hints survive validation into what the model reads.
  const v = validateEndpointSlice(close[0]);
  assert.ok(v.ok);
  assert.deepEqual(v.value.endpoints[0].zoneHints, ['zone-a']);
});

test('no matching Pods: one empty placeholder slice; no selector: no slices; headless label', () => {
  const empty = buildEndpointSlices(svc({ ports: [{ port: 80 }] }), [], ctx);
  assert.equal(empty.length, 1);
  assert.deepEqual([empty[0].endpoints, empty[0].ports, empty[0].addressType], [[], [], 'IPv4']);
  assert.deepEqual(buildEndpointSlices(svc({ selector: null, ports: [{ port: 80 }] }), [view(pod('a'))], ctx), []);
  const headless = buildEndpointSlices(svc({ clusterIP: 'None', ports: [{ port: 80 }] }), [view(pod('a'))], ctx);
  assert.equal(headless[0].metadata!.labels!['service.kubernetes.io/headless'], '');
  const long = buildEndpointSlices(svc({ ports: [{ port: 80 }] }, { name: 'x'.repeat(63) }), [view(pod('a'))], ctx);
  assert.equal(long[0].metadata!.name!.length, 63);
});
