// The endpoint controller indexes Pods only by the label keys some Service's selector uses
// (src/sources/pods/controller.ts). A key becomes indexed when the first Service selecting by
// it arrives, so that Service (and every later one) must still find every Pod already there,
// and the index must follow Pods that are relabelled or removed afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointController } from '../../../src/sources/pods/controller.js';
import { pod, sliceSink, svc } from './slice-fixtures.js';

const service = (name: string, selector: Record<string, string>) => svc({ selector, ports: [{ port: 80, targetPort: 8080 }] }, { name });

test('a Service selecting by a label no Service used before finds every Pod already there, and follows relabels and removals', () => {
  const { sink, addresses } = sliceSink();
  const c = new EndpointController({ sink, ready: () => true });
  c.setService('shop/web', service('web', { app: 'web' }));
  // Pods with labels nobody selects by yet (tier, track), before and after the first Service.
  c.setPod('shop/a', pod('a', { ip: '10.0.0.1', labels: { app: 'web', tier: 'backend' } }));
  c.setPod('shop/b', pod('b', { ip: '10.0.0.2', labels: { app: 'api', tier: 'backend', track: 'canary' } }));
  c.setPod('shop/c', pod('c', { ip: '10.0.0.3', labels: { app: 'web', tier: 'frontend' } }));
  c.flush();
  assert.deepEqual(addresses('web'), ['10.0.0.1', '10.0.0.3']);

  // The first Service on tier, and one on tier and track together: every Pod already there counts.
  c.setService('shop/backend', service('backend', { tier: 'backend' }));
  c.setService('shop/canary', service('canary', { tier: 'backend', track: 'canary' }));
  c.flush();
  assert.deepEqual(addresses('backend'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(addresses('canary'), ['10.0.0.2']);

  // A Pod added after: indexed by tier too.
  c.setPod('shop/d', pod('d', { ip: '10.0.0.4', labels: { app: 'web', tier: 'backend', track: 'canary' } }));
  c.flush();
  assert.deepEqual(addresses('backend'), ['10.0.0.1', '10.0.0.2', '10.0.0.4']);
  assert.deepEqual(addresses('canary'), ['10.0.0.2', '10.0.0.4']);
  assert.deepEqual(addresses('web'), ['10.0.0.1', '10.0.0.3', '10.0.0.4']);

  // Relabelled: out of the Services it left, into the one it joined.
  c.setPod('shop/a', pod('a', { ip: '10.0.0.1', labels: { app: 'web', tier: 'frontend' } }));
  c.setPod('shop/c', pod('c', { ip: '10.0.0.3', labels: { app: 'api', tier: 'backend', track: 'canary' } }));
  c.flush();
  assert.deepEqual(addresses('backend'), ['10.0.0.2', '10.0.0.3', '10.0.0.4']);
  assert.deepEqual(addresses('canary'), ['10.0.0.2', '10.0.0.3', '10.0.0.4']);
  assert.deepEqual(addresses('web'), ['10.0.0.1', '10.0.0.4']);

  // Removed: gone from every Service, including by a key indexed after it came.
  c.setPod('shop/b', null);
  c.setPod('shop/d', null);
  c.flush();
  assert.deepEqual(addresses('backend'), ['10.0.0.3']);
  assert.deepEqual(addresses('canary'), ['10.0.0.3']);
  assert.deepEqual(addresses('web'), ['10.0.0.1']);

  // The Services on tier gone and one back: the Pods are still found (and none removed twice).
  c.setService('shop/backend', null);
  c.setService('shop/canary', null);
  c.flush();
  c.setService('shop/again', service('again', { tier: 'frontend' }));
  c.flush();
  assert.deepEqual(addresses('again'), ['10.0.0.1']);
});

test('Pods that share one label object are found by a Service on a label indexed after they came', () => {
  const { sink, addresses } = sliceSink();
  const c = new EndpointController({ sink, ready: () => true });
  c.setService('shop/web', service('web', { app: 'web' }));
  const labels = { app: 'web', zone: 'z1' };
  for (let i = 1; i <= 3; i++) c.setPod(`shop/p${i}`, pod(`p${i}`, { ip: `10.0.1.${i}`, labels }));
  c.flush();
  c.setService('shop/z1', service('z1', { zone: 'z1' }));
  c.setPod('shop/p4', pod('p4', { ip: '10.0.1.4', labels }));
  c.setPod('shop/p1', null);
  c.flush();
  assert.deepEqual(addresses('z1'), ['10.0.1.2', '10.0.1.3', '10.0.1.4']);
  assert.deepEqual(addresses('web'), ['10.0.1.2', '10.0.1.3', '10.0.1.4']);
});

test('past the number of keys indexed one by one, every key is indexed: Services on a label each still find their Pods', () => {
  const { sink, addresses } = sliceSink();
  const c = new EndpointController({ sink, ready: () => true });
  const n = 40; // more than the keys indexed one by one
  const labelsOf = (i: number) => ({ app: 'web', [`own-${i}`]: 'yes', [`other-${i}`]: 'x' });
  for (let i = 0; i < n; i += 2) c.setPod(`shop/p${i}`, pod(`p${i}`, { ip: `10.0.2.${i + 1}`, labels: labelsOf(i) }));
  for (let i = 0; i < n; i++) c.setService(`shop/s${i}`, service(`s${i}`, { [`own-${i}`]: 'yes' }));
  for (let i = 1; i < n; i += 2) c.setPod(`shop/p${i}`, pod(`p${i}`, { ip: `10.0.2.${i + 1}`, labels: labelsOf(i) }));
  c.flush();
  for (let i = 0; i < n; i++) assert.deepEqual(addresses(`s${i}`), [`10.0.2.${i + 1}`], `s${i}`);
  // A key no Service used before, after every key is indexed: found too.
  c.setService('shop/other', service('other', { 'other-3': 'x' }));
  // Relabelled and removed after the switch.
  c.setPod('shop/p5', pod('p5', { ip: '10.0.2.6', labels: labelsOf(7) }));
  c.setPod('shop/p0', null);
  c.flush();
  assert.deepEqual(addresses('other'), ['10.0.2.4']);
  assert.deepEqual(addresses('s0'), []);
  assert.deepEqual(addresses('s5'), []);
  assert.deepEqual(addresses('s7'), ['10.0.2.6', '10.0.2.8']);
});
