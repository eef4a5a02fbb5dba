// The EndpointSlice controller hands the change tracker slices in the model's form, built
// straight from the validated Service and Pods. They must be exactly what validating the API
// objects would give (the path a sink without upsertEndpointSlice takes), in every case the
// builder distinguishes; and the controller must write only slices that changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateEndpointSlice } from '../../../src/api/validate.js';
import { TRIGGER_TIME_ANNOTATION, type EndpointSlice, type KubeObject, type Service } from '../../../src/api/types.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import { EndpointController } from '../../../src/sources/pods/controller.js';
import type { Pod } from '../../../src/sources/pods/pod.js';
import { sameEndpointSlice } from '../../../src/sources/pods/slice-equal.js';
import { buildEndpointSliceModels, buildEndpointSlices, type SlicePodView } from '../../../src/sources/pods/slices.js';
import type { ObjectSink } from '../../../src/sources/sink.js';
import { pod, svc, zones } from './slice-fixtures.js';

const ctx = { zoneOf: (n: string) => zones[n] ?? '', maxEndpointsPerSlice: 3 };
const T = Date.parse('2026-03-01T10:00:00Z');

function viaValidation(s: Service, pods: SlicePodView[]): EndpointSlice[] {
  return buildEndpointSlices(s, pods, ctx).map((raw) => {
    const withTime = { ...raw, metadata: { ...raw.metadata, annotations: { [TRIGGER_TIME_ANNOTATION]: '2026-03-01T10:00:00Z' } } };
    const v = validateEndpointSlice(withTime);
    assert.ok(v.ok, JSON.stringify(!v.ok && v.error));
    return v.value;
  });
}

test('the model slices equal the validated API slices: families, named ports, conditions, zones, hostnames, hints, headless, placeholder', () => {
  const mixed = [
    pod('a', { ip: ['10.0.0.1', 'fd00::1'], hostname: 'a', subdomain: 'web' }),
    pod('b', { ip: ['10.0.0.2', 'fd00::2'], node: 'node-b', hostname: 'b', subdomain: 'other' }),
    pod('c', { ip: ['10.0.0.3'], node: 'node-x', ports: [{ name: 'http', containerPort: 9090 }], deleting: true }),
    pod('d', { ip: ['10.0.0.4'], ports: [{ name: 'metrics', containerPort: 9100 }] }),
    pod('e', { ip: ['10.0.0.5'], phase: 'Succeeded' }),
    pod('f', { ip: ['fd00::6'], node: '' }),
    pod('g', { ip: ['10.0.0.7'] }),
    pod('h', { ip: ['10.0.0.8'] }),
    pod('i', { ip: ['10.0.0.9'] }),
  ];
  const views = (ready: (i: number) => boolean): SlicePodView[] => mixed.map((p, i) => ({ pod: p, ready: ready(i), terminating: p.deleting }));
  const cases: [string, Service, SlicePodView[]][] = [
    [
      'named targetPort, dual stack, PreferClose',
      svc({
        ipFamilyPolicy: 'PreferDualStack',
        clusterIPs: ['10.96.0.10', 'fd00::10'],
        trafficDistribution: 'PreferClose',
        ports: [
          { name: 'http', port: 80, targetPort: 'http', appProtocol: 'http' },
          { name: 'm', port: 91, targetPort: 9100, protocol: 'UDP' },
        ],
      }),
      views((i) => i % 3 !== 0),
    ],
    ['PreferSameNode', svc({ trafficDistribution: 'PreferSameNode', ports: [{ port: 80 }] }), views(() => true)],
    ['publishNotReadyAddresses', svc({ publishNotReadyAddresses: true, ports: [{ port: 80, targetPort: 8080 }] }), views(() => false)],
    ['headless', svc({ clusterIP: 'None', ports: [{ port: 80 }] }, { labels: { team: 'b', 'kubernetes.io/service-name': 'x' } }), views(() => true)],
    ['no matching Pods: placeholder', svc({ ports: [{ port: 80 }] }), []],
  ];
  for (const [what, s, pods] of cases) {
    const direct = buildEndpointSliceModels(s, pods, ctx, T);
    assert.deepEqual(direct, viaValidation(s, pods), what);
    assert.ok(direct.length > 0, what);
    // Shared values are the validator's own (one frozen condition object per combination).
    const v = viaValidation(s, pods);
    direct.forEach((d, i) => d.endpoints.forEach((e, j) => assert.equal(e.conditions, v[i].endpoints[j].conditions, what)));
  }
  assert.deepEqual(buildEndpointSliceModels(svc({ selector: null, ports: [{ port: 80 }] }), [], ctx), []);
});

test('sameEndpointSlice: equal content is equal whatever the trigger time; each field counts', () => {
  const s = svc({ trafficDistribution: 'PreferSameNode', ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  const one = (p: Pod, ready = true) => buildEndpointSliceModels(s, [{ pod: p, ready, terminating: false }], ctx, T)[0];
  const base = one(pod('a'));
  assert.ok(sameEndpointSlice(base, buildEndpointSliceModels(s, [{ pod: pod('a'), ready: true, terminating: false }], ctx, T + 5000)[0]));
  assert.ok(!sameEndpointSlice(base, one(pod('a'), false)), 'readiness');
  assert.ok(!sameEndpointSlice(base, one(pod('a', { ip: ['10.0.0.2'] }))), 'address');
  assert.ok(!sameEndpointSlice(base, one(pod('a', { node: 'node-b' }))), 'node, zone and hints');
  const rezoned = buildEndpointSliceModels(s, [{ pod: pod('a'), ready: true, terminating: false }], { zoneOf: () => 'zone-c' }, T)[0];
  assert.ok(!sameEndpointSlice(base, rezoned), 'zone and zone hints only');
  const s2 = svc({ ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  const noHints = buildEndpointSliceModels(s2, [{ pod: pod('a'), ready: true, terminating: false }], ctx, T)[0];
  const noHintsRezoned = buildEndpointSliceModels(s2, [{ pod: pod('a'), ready: true, terminating: false }], { zoneOf: () => 'zone-c' }, T)[0];
  assert.ok(!sameEndpointSlice(noHints, noHintsRezoned), 'zone alone');
  const named = buildEndpointSliceModels(s2, [{ pod: pod('a', { hostname: 'h', subdomain: 'web' }), ready: true, terminating: false }], ctx, T)[0];
  assert.ok(!sameEndpointSlice(noHints, named), 'hostname');
  const terminating = buildEndpointSliceModels(s2, [{ pod: pod('a'), ready: true, terminating: true }], ctx, T)[0];
  assert.ok(!sameEndpointSlice(noHints, terminating), 'terminating');
  const other = buildEndpointSliceModels(
    svc({ trafficDistribution: 'PreferSameNode', ports: [{ name: 'http', port: 80, targetPort: 8081 }] }),
    [{ pod: pod('a'), ready: true, terminating: false }],
    ctx,
    T,
  )[0];
  assert.ok(!sameEndpointSlice(base, other), 'port');
  const relabelled = buildEndpointSliceModels(
    svc({ trafficDistribution: 'PreferSameNode', ports: [{ name: 'http', port: 80, targetPort: 8080 }] }, { labels: { team: 'z' } }),
    [{ pod: pod('a'), ready: true, terminating: false }],
    ctx,
    T,
  )[0];
  assert.ok(!sameEndpointSlice(base, relabelled), 'labels');
});

/** A tracker that counts what reaches it by each path. */
function countingTracker() {
  const tracker = new ChangeTracker({ nodeName: 'node-a' });
  const counts = { direct: 0, raw: 0, deleted: 0 };
  const sink: ObjectSink = {
    upsert: (o: KubeObject) => (counts.raw++, tracker.upsert(o)),
    upsertEndpointSlice: (slice: EndpointSlice) => (counts.direct++, tracker.upsertEndpointSlice(slice)),
    delete: (k, ns, n) => (counts.deleted++, tracker.delete(k as 'EndpointSlice', ns, n)),
    reportError: (e) => tracker.reportError(e),
    clearError: (k, ns, n) => tracker.clearError(k, ns, n),
  };
  return { tracker, counts, sink };
}

test('the controller writes model slices to a direct sink, only when they change, and the state matches the raw path', () => {
  const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
  const ready = new Set(['shop/a', 'shop/b']);
  const run = (direct: boolean) => {
    const { tracker, counts, sink } = countingTracker();
    if (!direct) delete sink.upsertEndpointSlice;
    tracker.upsert({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop', uid: 'u-web' },
      spec: { clusterIP: '10.96.0.10', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const c = new EndpointController({ sink, ready: (id) => ready.has(id), maxEndpointsPerSlice: 2 });
    c.setService('shop/web', s);
    for (const n of ['a', 'b', 'c']) c.setPod(`shop/${n}`, pod(n, { ip: [`10.0.0.${n.charCodeAt(0) - 96}`] }));
    const first = c.flush(new Date(T));
    const eps = () => [...tracker.snapshot().servicePorts.values()][0].clusterEndpoints!.map((e) => `${e.endpoint}${e.ready ? '' : '(not ready)'}`);
    const start = eps();
    c.podChanged('shop/a'); // nothing changed: nothing written
    const unchanged = c.flush(new Date(T + 1000));
    ready.add('shop/c');
    c.podChanged('shop/c');
    const changed = c.flush(new Date(T + 2000));
    const later = eps();
    c.setPod('shop/c', null);
    c.setPod('shop/b', null);
    const removed = c.flush(new Date(T + 3000));
    ready.delete('shop/c');
    return { first, unchanged, changed, removed, counts: { ...counts }, start, later, end: eps(), errors: tracker.snapshot().errors };
  };
  const direct = run(true);
  const raw = run(false);
  assert.deepEqual(direct.start, ['10.0.0.1:8080', '10.0.0.2:8080']); // c is not ready: left out of the cluster endpoints
  assert.deepEqual(direct.later, ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
  assert.deepEqual(direct.end, ['10.0.0.1:8080']);
  assert.deepEqual({ ...direct, counts: undefined }, { ...raw, counts: undefined }, 'same slices written and same state by both paths');
  // [a, b] [c]; c ready: [c] rewritten; b and c gone: [a] rewritten and [c] deleted.
  assert.deepEqual([direct.first, direct.unchanged, direct.changed, direct.removed], [2, 0, 1, 2]);
  assert.deepEqual(direct.counts, { direct: 4, raw: 0, deleted: 1 });
  assert.deepEqual(raw.counts, { direct: 0, raw: 4, deleted: 1 });
  assert.deepEqual(direct.errors, []);
});
