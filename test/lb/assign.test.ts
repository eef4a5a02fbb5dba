// Address assignment: pools and their order, annotations, spec.loadBalancerIP, dual-stack,
// sharing, exhaustion (an error on that Service alone) and stability across restarts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateService } from '../../src/api/validate.js';
import { LoadBalancerAssigner, type AssignResult, type LBServiceInput } from '../../src/lb/assign.js';
import { validatePool, type IPAddressPool } from '../../src/lb/config.js';

function svc(name: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): LBServiceInput {
  const raw = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns', annotations, labels }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', ports: [{ port: 80 }], ...spec } };
  const v = validateService(raw);
  assert.ok(v.ok, JSON.stringify(!v.ok && v.error));
  return { id: `ns/${name}`, svc: v.value, loadBalancerClass: (spec.loadBalancerClass as string) ?? '', loadBalancerIP: (spec.loadBalancerIP as string) ?? '' };
}

function pool(name: string, addresses: string[], extra: Record<string, unknown> = {}): IPAddressPool {
  const v = validatePool({ kind: 'IPAddressPool', metadata: { name, namespace: 'metallb-system' }, spec: { addresses, ...extra } });
  assert.ok(v.ok);
  return v.value;
}

const ips = (r: Map<string, AssignResult>, id: string) => {
  const x = r.get(id);
  assert.ok(x?.ok, `${id}: ${JSON.stringify(x)}`);
  return x.assignment.ips;
};
const error = (r: Map<string, AssignResult>, id: string) => {
  const x = r.get(id);
  assert.ok(x && !x.ok, `${id} should fail: ${JSON.stringify(x)}`);
  return x.error;
};

test('first free address of the first pool by priority; autoAssign false only on request; foreign classes left alone', () => {
  const pools = [
    pool('b', ['10.0.2.0-10.0.2.1']),
    pool('a', ['10.0.1.0-10.0.1.1']),
    pool('manual', ['10.0.9.0/31'], { autoAssign: false }),
    pool('first', ['10.0.3.0/32'], { serviceAllocation: { priority: 1 } }),
  ];
  const r = new LoadBalancerAssigner().assign(
    [svc('s1'), svc('s2'), svc('s3'), svc('s4', {}, { 'metallb.io/address-pool': 'manual' }), svc('other', { loadBalancerClass: 'example.com/elb' }), svc('cip', { type: 'ClusterIP' })],
    pools,
  );
  assert.deepEqual(ips(r, 'ns/s1'), ['10.0.3.0']); // priority 1 first
  assert.deepEqual(ips(r, 'ns/s2'), ['10.0.1.0']); // then by name: a
  assert.deepEqual(ips(r, 'ns/s3'), ['10.0.1.1']);
  assert.deepEqual(ips(r, 'ns/s4'), ['10.0.9.0']);
  assert.ok(!r.has('ns/other') && !r.has('ns/cip'));
});

test('explicit addresses: annotation (both prefixes), spec.loadBalancerIP, conflicts and mistakes are errors of that Service', () => {
  const pools = [pool('a', ['10.0.1.0/24', 'fd00::/120'])];
  const r = new LoadBalancerAssigner().assign(
    [
      svc('ann', {}, { 'metallb.io/loadBalancerIPs': '10.0.1.50' }),
      svc('old', {}, { 'metallb.universe.tf/loadBalancerIPs': '10.0.1.51,fd00::51' }),
      svc('spec', { loadBalancerIP: '10.0.1.52' }),
      svc('both', { loadBalancerIP: '10.0.1.53' }, { 'metallb.io/loadBalancerIPs': '10.0.1.53' }),
      svc('outside', {}, { 'metallb.io/loadBalancerIPs': '192.0.2.1' }),
      svc('taken', {}, { 'metallb.io/loadBalancerIPs': '10.0.1.50' }),
      svc('garbage', {}, { 'metallb.io/loadBalancerIPs': '10.0.1' }),
      svc('nopool', {}, { 'metallb.io/address-pool': 'nope' }),
    ],
    pools,
  );
  assert.deepEqual(ips(r, 'ns/ann'), ['10.0.1.50']);
  assert.deepEqual(ips(r, 'ns/old'), ['10.0.1.51', 'fd00::51']);
  assert.deepEqual(ips(r, 'ns/spec'), ['10.0.1.52']);
  assert.match(error(r, 'ns/both').reason, /together with spec.loadBalancerIP/);
  assert.equal(error(r, 'ns/outside').field, 'metadata.annotations[metallb.io/loadBalancerIPs]');
  assert.match(error(r, 'ns/outside').reason, /192.0.2.1 is in no IPAddressPool/);
  assert.match(error(r, 'ns/taken').reason, /already in use by Service ns\/ann/);
  assert.match(error(r, 'ns/garbage').reason, /not an IP address/);
  assert.equal(error(r, 'ns/nopool').field, 'metadata.annotations[metallb.io/address-pool]');
});

test('dual-stack: one address per family from one pool; RequireDualStack needs a pool with both', () => {
  const pools = [pool('v4only', ['10.0.1.0/30']), pool('dual', ['10.0.2.0/30', 'fd00::/126'])];
  const r = new LoadBalancerAssigner().assign(
    [
      svc('v6first', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'], clusterIPs: ['fd00:96::1', '10.96.0.10'], clusterIP: 'fd00:96::1' }),
      svc('prefer', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'], clusterIPs: ['10.96.0.11', 'fd00:96::2'], clusterIP: '10.96.0.11' }),
      svc('v6', { ipFamilies: ['IPv6'], clusterIP: 'fd00:96::3', clusterIPs: ['fd00:96::3'] }),
    ],
    pools,
  );
  // Newcomers are served in namespace/name order: prefer, v6, v6first.
  assert.deepEqual(ips(r, 'ns/prefer'), ['10.0.2.0', 'fd00::']);
  assert.deepEqual(ips(r, 'ns/v6'), ['fd00::1']);
  assert.deepEqual(ips(r, 'ns/v6first'), ['fd00::2', '10.0.2.1']); // in spec.ipFamilies order
  // RequireDualStack with only a single-family pool: an error; PreferDualStack settles for one family.
  const single = new LoadBalancerAssigner().assign(
    [
      svc('req', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], clusterIPs: ['10.96.0.10', 'fd00:96::1'] }),
      svc('pref', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'], clusterIPs: ['10.96.0.11', 'fd00:96::2'], clusterIP: '10.96.0.11' }),
    ],
    [pool('v4only', ['10.0.1.0/30'])],
  );
  assert.match(error(single, 'ns/req').reason, /v4only \(no IPv4\+IPv6 addresses\)/);
  assert.deepEqual(ips(single, 'ns/pref'), ['10.0.1.0']);
});

test('sharing: same key and no port in common share an address; otherwise a new one', () => {
  const pools = [pool('a', ['10.0.1.0/30'])];
  const key = { 'metallb.io/allow-shared-ip': 'k1' };
  const r = new LoadBalancerAssigner().assign(
    [
      svc('dns-tcp', { ports: [{ port: 53, protocol: 'TCP' }] }, key),
      svc('dns-udp', { ports: [{ port: 53, protocol: 'UDP' }] }, key),
      svc('udp-clash', { ports: [{ port: 53, protocol: 'UDP' }] }, key),
      svc('otherkey', { ports: [{ port: 80 }] }, { 'metallb.io/allow-shared-ip': 'k2' }),
      svc('explicit', { ports: [{ port: 443 }] }, { ...key, 'metallb.io/loadBalancerIPs': '10.0.1.0' }),
    ],
    pools,
  );
  // Explicit requests go first: 'explicit' takes .0; the DNS pair joins it (same key, ports differ).
  assert.deepEqual(ips(r, 'ns/explicit'), ['10.0.1.0']);
  assert.deepEqual(ips(r, 'ns/dns-tcp'), ['10.0.1.0']);
  assert.deepEqual(ips(r, 'ns/dns-udp'), ['10.0.1.0']);
  assert.deepEqual(ips(r, 'ns/otherkey'), ['10.0.1.1']); // another key never joins
  assert.deepEqual(ips(r, 'ns/udp-clash'), ['10.0.1.2']); // 53/UDP already used on .0, .1 has another key
});

test('exhaustion is an error on the Service that did not fit, nobody else moves', () => {
  const pools = [pool('tiny', ['10.0.1.0-10.0.1.1'])];
  const a = new LoadBalancerAssigner();
  const r1 = a.assign([svc('m'), svc('n')], pools);
  assert.deepEqual([ips(r1, 'ns/m'), ips(r1, 'ns/n')], [['10.0.1.0'], ['10.0.1.1']]);
  // A newcomer that sorts first cannot push the holders out.
  const r2 = a.assign([svc('m'), svc('n'), svc('b-first')], pools);
  assert.deepEqual([ips(r2, 'ns/m'), ips(r2, 'ns/n')], [['10.0.1.0'], ['10.0.1.1']]);
  const e = error(r2, 'ns/b-first');
  assert.equal(e.field, 'status.loadBalancer.ingress');
  assert.match(e.reason, /no free address: tiny \(2 IPv4 addresses, none free\)/);
  // When one leaves, the waiting Service gets its address.
  const r3 = a.assign([svc('n'), svc('b-first')], pools);
  assert.deepEqual(ips(r3, 'ns/b-first'), ['10.0.1.0']);
});

test('restarts: held assignments are kept even where a fresh pass would choose differently', () => {
  const pools = [pool('a', ['10.0.1.0/29'])];
  const first = new LoadBalancerAssigner();
  first.assign([svc('z')], pools); // z alone takes .0
  const held = new Map(first.holdings());
  const restarted = new LoadBalancerAssigner(held);
  const r = restarted.assign([svc('a'), svc('z')], pools);
  assert.deepEqual(ips(r, 'ns/z'), ['10.0.1.0']);
  assert.deepEqual(ips(r, 'ns/a'), ['10.0.1.1']);
  // A holding that no longer fits (pool changed) is re-assigned.
  const moved = new LoadBalancerAssigner(held).assign([svc('z')], [pool('a', ['10.0.7.0/30'])]);
  assert.deepEqual(ips(moved, 'ns/z'), ['10.0.7.0']);
});

test('serviceAllocation: namespaces and serviceSelectors narrow who may get addresses without asking', () => {
  const pools = [pool('team', ['10.0.1.0/30'], { serviceAllocation: { priority: 5, namespaces: ['ns'], serviceSelectors: [{ matchLabels: { team: 'x' } }] } }), pool('rest', ['10.0.2.0/30'])];
  const r = new LoadBalancerAssigner().assign([svc('x', {}, {}, { team: 'x' }), svc('y')], pools);
  assert.deepEqual(ips(r, 'ns/x'), ['10.0.1.0']);
  assert.deepEqual(ips(r, 'ns/y'), ['10.0.2.0']);
});
