import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateAllocatedOnce, validateService, validateServiceOnce } from '../../src/api/validate.js';

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

test('validateAllocatedOnce: the written fields checked again, the rest taken from the definition; as validating the whole object', () => {
  const defined = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
    spec: {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
      ipFamilyPolicy: 'PreferDualStack',
      ports: [
        { name: 'a', port: 80 },
        { name: 'b', port: 81, nodePort: 30081 },
      ],
    },
  };
  const before = validateService(defined);
  assert.ok(before.ok);
  const written = (spec: Record<string, unknown>, ports?: Record<string, unknown>[]) => ({ ...defined, spec: { ...defined.spec, ...spec, ...(ports ? { ports } : {}) } });
  const ports = (a: unknown, b: unknown = 30081) => [
    { name: 'a', port: 80, nodePort: a },
    { name: 'b', port: 81, nodePort: b },
  ];
  const cases = [
    written({ clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00::5'], ipFamilies: ['IPv4', 'IPv6'], healthCheckNodePort: 30999 }, ports(30080)),
    written({ clusterIP: '10.96.000.5', clusterIPs: ['10.96.000.5'], ipFamilies: ['IPv4'] }), // read canonically
    written({ clusterIP: 'FD00::0:5', clusterIPs: ['FD00::0:5', '10.96.0.5'], ipFamilies: ['IPv6', 'IPv4'] }),
    written({ clusterIPs: ['10.96.0.5', '::ffff:10.96.0.6'], clusterIP: '10.96.0.5', ipFamilies: ['IPv4', 'IPv6'] }), // two IPv4: refused
    written({ clusterIP: '0.0.0.0', clusterIPs: ['0.0.0.0'], ipFamilies: ['IPv4'] }), // unspecified: refused
    written({ ipFamilyPolicy: 'SingleStack', clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00::5'], ipFamilies: ['IPv4', 'IPv6'] }),
    written({}, ports(70000)),
    written({}, ports(30080, 30081.5)),
    written({ healthCheckNodePort: -1 }),
  ];
  for (const o of cases) {
    const whole = validateService(structuredClone(o));
    const v = validateAllocatedOnce(o, before.value);
    assert.deepEqual(v, whole, JSON.stringify(o.spec));
    assert.equal(JSON.stringify(v), JSON.stringify(whole), 'same keys in the same order');
    assert.equal(validateService(o), v, 'remembered for that object');
  }
  assert.equal(cases.filter((o) => !validateService(o).ok).length, 6, 'the last six are refused');
  // Nothing written: the definition's own result.
  const same = validateAllocatedOnce(written({}), before.value);
  assert.ok(same.ok);
  assert.equal(same.value, before.value);
});
