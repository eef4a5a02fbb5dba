import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePod, type Pod } from '../../../src/sources/pods/pod.js';

function pod(name: string, o: { labels?: Record<string, string>; probe?: boolean; port?: number } = {}): Pod {
  const v = validatePod({
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: o.labels ?? { app: 'web', tier: 'backend' } },
    spec: {
      nodeName: 'node-a',
      containers: [{ name: 'app', ports: [{ name: 'http', containerPort: o.port ?? 8080 }], ...(o.probe ? { readinessProbe: { tcpSocket: { port: 'http' } } } : {}) }],
    },
    status: { podIP: '10.0.0.1' },
  });
  assert.ok(v.ok, JSON.stringify(!v.ok && v.error));
  return v.pod;
}

test('Pods with equal labels and probe-less containers share one frozen copy of each', () => {
  const a = pod('a');
  const b = pod('b');
  assert.equal(a.labels, b.labels);
  assert.equal(a.containers, b.containers);
  assert.ok(Object.isFrozen(a.labels) && Object.isFrozen(a.containers) && Object.isFrozen(a.containers[0].ports[0]));
  assert.equal(a.namespace, 'shop');
  // What a Pod reads as is unchanged by the sharing.
  assert.deepEqual(a.labels, { app: 'web', tier: 'backend' });
  assert.deepEqual(a.containers, [{ name: 'app', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], readinessProbe: null }]);
});

test('different labels, ports or a readiness probe: not shared', () => {
  const a = pod('a');
  assert.notEqual(pod('c', { labels: { app: 'web', tier: 'front' } }).labels, a.labels);
  assert.notEqual(pod('d', { labels: { tier: 'backend', app: 'web' } }).labels, a.labels, 'another order is another object (same content)');
  assert.notEqual(pod('e', { port: 9090 }).containers, a.containers);
  const p1 = pod('f', { probe: true });
  const p2 = pod('g', { probe: true });
  assert.notEqual(p1.containers, p2.containers);
  assert.ok(!Object.isFrozen(p1.containers));
  assert.equal(p1.containers[0].readinessProbe?.handler.type, 'tcpSocket');
});

test('a set one pair shorter or longer than the last one shared is another set', () => {
  const full = pod('h', { labels: { app: 'web', tier: 'backend' } });
  const fewer = pod('i', { labels: { app: 'web' } });
  assert.notEqual(fewer.labels, full.labels);
  assert.deepEqual(fewer.labels, { app: 'web' });
  const more = pod('j', { labels: { app: 'web', tier: 'backend', x: 'y' } });
  assert.deepEqual(more.labels, { app: 'web', tier: 'backend', x: 'y' });
  assert.equal(pod('k', { labels: { app: 'web', tier: 'backend' } }).labels, full.labels, 'back to an earlier set: the table still has it');
  const twoContainers = validatePod({
    kind: 'Pod',
    metadata: { name: 'l', namespace: 'shop' },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }, { name: 'side' }] },
  });
  assert.ok(twoContainers.ok);
  assert.equal(twoContainers.pod.containers.length, 2, 'not the last list shared, which has one container');
  assert.equal(pod('m').containers.length, 1);
});
