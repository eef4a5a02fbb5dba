import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateService, validateServiceOnce } from '../../src/api/validate.js';

const service = () => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] } });

test('a Service validated once is the same validated object for every later validateService', () => {
  const o = service();
  const once = validateServiceOnce(o);
  assert.ok(once.ok);
  assert.equal(validateService(o), once);
  assert.equal(validateServiceOnce(o), once);
  // An equal but other object is validated on its own, with an equal result.
  const other = validateService(service());
  assert.notEqual(other, once);
  assert.deepEqual(other, once);
});

test('without validateServiceOnce nothing is remembered, and invalid results are remembered too', () => {
  const o = service();
  assert.notEqual(validateService(o), validateService(o));
  const bad = { ...service(), spec: { clusterIP: 'nope' } };
  const v = validateServiceOnce(bad);
  assert.ok(!v.ok);
  assert.equal(validateService(bad), v);
});
