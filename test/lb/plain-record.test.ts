// The LoadBalancer controller keeps one shared record for every valid Service that is no
// LoadBalancer it serves (not the Service and its validated copy): a Service moving between
// LoadBalancer and ClusterIP must still lose its address and its errors, and an invalid
// Service must still count as invalid.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LoadBalancerTracker } from '../../src/lb/tracker.js';

const pool = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lan', namespace: 'metallb-system' }, spec: { addresses: ['192.168.80.200-192.168.80.201'] } };
const svc = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

test('a Service moving between LoadBalancer and ClusterIP gains and loses its address and its errors', () => {
  const t = new LoadBalancerTracker({ nodeName: 'n1', machineAddresses: ['192.0.2.1'], writesStatus: 'local' });
  const ingress = (id: string) =>
    t
      .snapshot()
      .services.get(id)!
      .loadBalancerIngress.map((g) => g.ip);
  const errorsOf = (name: string) =>
    t
      .snapshot()
      .errors.filter((e) => e.kind === 'Service' && e.name === name)
      .map((e) => e.field);
  assert.equal(t.upsert(pool), null);

  t.upsert(svc('web', { type: 'LoadBalancer' }));
  assert.deepEqual(ingress('default/web'), ['192.168.80.200']);
  t.upsert(svc('web', { type: 'ClusterIP' }));
  assert.deepEqual(ingress('default/web'), [], 'the address goes with the type');
  t.upsert(svc('web', { type: 'ClusterIP', selector: { app: 'web' } })); // now a plain record
  assert.deepEqual(ingress('default/web'), []);
  assert.equal(t.lb.isValidService('default/web'), true);
  assert.equal(t.lb.rawService('default/web'), undefined, 'no object kept for a plain Service');
  t.upsert(svc('web', { type: 'LoadBalancer' }));
  assert.deepEqual(ingress('default/web'), ['192.168.80.200'], 'back to LoadBalancer: assigned again');

  // An address outside every pool is an error of the Service; as a ClusterIP it goes away.
  t.upsert(svc('far', { type: 'LoadBalancer', loadBalancerIP: '203.0.113.9' }));
  assert.equal(errorsOf('far').length, 1);
  t.upsert(svc('far', { type: 'ClusterIP', loadBalancerIP: '203.0.113.9' }));
  assert.deepEqual(errorsOf('far'), []);
  assert.equal(t.lb.isValidService('default/far'), true);

  // An invalid Service is not valid for the controller (its error is the tracker's own).
  t.upsert(svc('bad', { type: 'ClusterIP', ports: [{ port: 0, protocol: 'TCP' }] }));
  assert.equal(t.lb.isValidService('default/bad'), false);
  assert.equal(errorsOf('bad').length, 1);
  t.delete('Service', 'default', 'web');
  assert.equal(t.lb.isValidService('default/web'), false);
});
