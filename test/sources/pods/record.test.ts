// One record per Pod (src/sources/pods/record.ts): the endpoint controller keeps it in its
// table and label index, the standalone cluster marks the same object. A new definition
// replaces the record's Pod, never the record; the label index follows the new labels; a
// removed Pod's record is gone everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManifestCatalog } from '../../../src/sources/manifests/catalog.js';
import { StandaloneCluster } from '../../../src/sources/manifests/cluster.js';
import { parseManifestText } from '../../../src/sources/manifests/read.js';
import { EndpointController } from '../../../src/sources/pods/controller.js';
import type { ObjectSink } from '../../../src/sources/sink.js';
import { silentLogger } from '../../../src/util/log.js';
import { pod, sliceSink, svc } from './slice-fixtures.js';

test('the controller keeps one record per Pod: the same object across definitions, indexed by its current labels, gone on removal', () => {
  const { sink, addresses } = sliceSink();
  const c = new EndpointController({ sink, ready: () => true });
  c.setService('shop/web', svc({ selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }));
  c.setService('shop/api', svc({ selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8080 }] }, { name: 'api' }));

  const first = c.setPod('shop/a', pod('a', { ip: '10.0.0.1' }));
  assert.ok(first);
  assert.equal(first.id, 'shop/a');
  assert.equal(c.podRecord('shop/a'), first);
  c.setPod('shop/b', pod('b', { ip: '10.0.0.2' }));
  c.flush();
  assert.deepEqual(addresses('web'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(addresses('api'), []);

  // A new definition with other labels: the same record, now found by the other Service only.
  const moved = pod('a', { ip: '10.0.0.1', labels: { app: 'api' } });
  const again = c.setPod('shop/a', moved, true);
  assert.equal(again, first, 'a new definition keeps the record');
  assert.equal(first.pod, moved);
  assert.equal(first.terminating, true);
  c.flush();
  assert.deepEqual(addresses('web'), ['10.0.0.2']);
  assert.deepEqual(addresses('api'), ['10.0.0.1']);

  assert.deepEqual([...c.podRecords()].map((r) => r.id).sort(), ['shop/a', 'shop/b']);
  assert.equal(c.setPod('shop/a', null), undefined);
  assert.equal(c.podRecord('shop/a'), undefined);
  assert.equal(c.setPod('shop/none', null), undefined, 'removing an unknown Pod is nothing');
  c.flush();
  assert.deepEqual(addresses('api'), []);
  assert.deepEqual(
    [...c.podRecords()].map((r) => r.id),
    ['shop/b'],
  );

  // Back after removal: a new record.
  const back = c.setPod('shop/a', pod('a', { ip: '10.0.0.1' }));
  assert.notEqual(back, first);
  c.flush();
  assert.deepEqual(addresses('web'), ['10.0.0.1', '10.0.0.2']);
});

const podYAML = (labels: string) =>
  'apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: demo, deletionTimestamp: "2026-01-01T00:00:00Z", labels: {' +
  labels +
  '}}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers: [{name: c, ports: [{containerPort: 80}]}]\nstatus: {podIP: 10.1.0.1}\n';

/** A live standalone cluster (probes, grace periods) that keeps no allocation file. */
function liveCluster(sink: ObjectSink): StandaloneCluster {
  return new StandaloneCluster({
    sink,
    log: silentLogger(),
    serviceCIDRs: ['10.96.0.0/16'],
    nodePortRange: { min: 30000, max: 32767 },
    allocationsPath: null,
    persistAllocations: false,
    live: true,
  });
}

test('the standalone cluster marks the controller record: a deleting Pod edited while it terminates still goes at the end of its grace period', async () => {
  const { sink } = sliceSink();
  const catalog = new ManifestCatalog();
  const cluster = liveCluster(sink);
  try {
    const load = (text: string) => {
      cluster.apply(catalog.setFile('p.yaml', parseManifestText(text, 'p.yaml')), catalog);
      cluster.flush();
    };
    const t0 = Date.now();
    load(podYAML('app: a'));
    const rec = cluster.controller.podRecord('demo/p');
    assert.ok(rec?.timer, 'a deleting Pod waits for its grace period');
    assert.equal(rec.terminating, true);
    await sleep(300);
    load(podYAML('app: b')); // still deleting: the grace period runs on
    assert.equal(cluster.controller.podRecord('demo/p'), rec, 'the same record');
    assert.equal(rec.pod.labels.app, 'b');
    while (cluster.controller.podRecord('demo/p') && Date.now() - t0 < 3000) await sleep(50);
    const ms = Date.now() - t0;
    assert.equal(cluster.controller.podRecord('demo/p'), undefined, 'gone after its grace period');
    assert.ok(ms >= 900, `gone after ${ms} ms, grace period 1 s`);
  } finally {
    cluster.stop();
  }
});

test('the standalone cluster: a Pod whose definition leaves the folder and comes back before its grace period ends stays, in the same record', async () => {
  const { sink, addresses } = sliceSink();
  const catalog = new ManifestCatalog();
  const cluster = liveCluster(sink);
  const service = 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: demo}\nspec:\n  selector: {app: a}\n  ports: [{port: 80}]\n';
  const live = podYAML('app: a').replace(', deletionTimestamp: "2026-01-01T00:00:00Z"', '');
  try {
    const load = (text: string) => {
      cluster.apply(catalog.setFile('p.yaml', parseManifestText(text, 'p.yaml')), catalog);
      cluster.flush();
    };
    load(`${service}---\n${live}`);
    const rec = cluster.controller.podRecord('demo/p');
    assert.ok(rec && !rec.timer && !rec.terminating);
    load(service); // gone from the folder: terminating for its grace period
    assert.ok(rec.timer, 'waits for its grace period');
    assert.equal(rec.terminating, true);
    assert.equal(rec.present, false);
    await sleep(300);
    load(`${service}---\n${live}`); // back: no longer going away
    assert.equal(cluster.controller.podRecord('demo/p'), rec, 'the same record');
    assert.equal(rec.timer, null);
    assert.equal(rec.terminating, false);
    assert.equal(rec.present, true);
    await sleep(1000);
    assert.equal(cluster.controller.podRecord('demo/p'), rec, 'still there after the grace period');
    assert.deepEqual(addresses('web'), ['10.1.0.1']);
  } finally {
    cluster.stop();
  }
});
