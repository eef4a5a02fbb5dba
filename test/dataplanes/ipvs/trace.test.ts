import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { rulesText } from '../../../src/dataplanes/ipvs/rules.js';
import { traceIpvs } from '../../../src/trace/ipvs.js';
import { parseIpvsRules } from '../../../src/trace/ipvs-text.js';
import { tracerFor } from '../../../src/trace/tracers.js';
import { traceJSON, type Packet } from '../../../src/trace/result.js';
import { config, ep, node, service, slice, stateOf } from './helpers.js';

const http = (nodePort?: number) => [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) }];
const p8080 = [{ name: 'http', port: 8080, protocol: 'TCP' }];
const text = rulesText(
  stateOf([
    node('node1', '192.168.0.2'),
    service('ns', 'web', { type: 'NodePort', clusterIP: '172.30.0.10', ports: http(30080) }),
    slice('ns', 'web', [ep('10.0.1.1', 'node1'), ep('10.0.2.1', 'node2'), ep('10.0.2.2', 'node2')], p8080),
    service('ns', 'empty', { clusterIP: '172.30.0.11', ports: http() }),
  ]),
  config(),
);
const fr = parseIpvsRules(text).families.get('IPv4')!;
const pkt = (src: string, dst: string, dport: number): Packet => ({ family: 'IPv4', protocol: 'tcp', src, dst, dport, sport: 0 });
const opts = { localAddresses: ['192.168.0.2'], masqueradeAll: false, podCIDRs: ['10.0.0.0/8'] };

test('ipvs trace: a ClusterIP from a pod: each server a third, hairpin masqueraded only back to itself', () => {
  const r = traceIpvs(fr, pkt('10.0.1.1', '172.30.0.10', 80), opts);
  const j = traceJSON(r);
  assert.equal(j.verdict, 'DNAT');
  assert.deepEqual(
    j.endpoints.map((e) => [e.ip, e.probability.toFixed(4)]),
    [
      ['10.0.1.1', '0.3333'],
      ['10.0.2.1', '0.3333'],
      ['10.0.2.2', '0.3333'],
    ],
  );
  assert.deepEqual(
    r.outcomes.map((o) => o.masquerade),
    [true, false, false],
  );
});

test('ipvs trace: NodePort from outside is masqueraded; no endpoints is REJECT; unknown port on a VIP is REJECT', () => {
  const np = traceJSON(traceIpvs(fr, pkt('203.0.113.9', '192.168.0.2', 30080), opts));
  assert.equal(np.verdict, 'DNAT');
  assert.equal(np.masquerade, true);
  assert.equal(traceJSON(traceIpvs(fr, pkt('203.0.113.9', '172.30.0.11', 80), opts)).verdict, 'REJECT');
  assert.equal(traceJSON(traceIpvs(fr, pkt('203.0.113.9', '172.30.0.10', 81), opts)).verdict, 'REJECT');
  assert.equal(traceJSON(traceIpvs(fr, pkt('203.0.113.9', '203.0.113.10', 80), opts)).verdict, 'NONE');
});

test('ipvs trace through the registry: `kproxy rules` text in, the pod CIDR read from the masquerade rule', async () => {
  const tracer = (await tracerFor('ipvs'))!;
  const fromPod = traceJSON(tracer(text, pkt('10.0.2.9', '172.30.0.10', 80), { localAddresses: ['192.168.0.2'] }));
  const fromOutside = traceJSON(tracer(text, pkt('203.0.113.9', '172.30.0.10', 80), { localAddresses: ['192.168.0.2'] }));
  assert.equal(fromPod.masquerade, false);
  assert.equal(fromOutside.masquerade, true);
  assert.equal(fromOutside.endpoints.length, 3);
});

test('ipvs trace: loadBalancerSourceRanges lets a single allowed host in (as ipset prints it, without /32) and drops the rest', () => {
  const lb = rulesText(
    stateOf([
      node('node1', '192.168.0.2'),
      service(
        'ns',
        'lb',
        { type: 'LoadBalancer', clusterIP: '172.30.0.20', loadBalancerSourceRanges: ['192.168.50.2/32', '10.9.0.0/16'], ports: http(30081) },
        { loadBalancer: { ingress: [{ ip: '192.168.70.10' }] } },
      ),
      slice('ns', 'lb', [ep('10.0.1.1', 'node1')], p8080),
    ]),
    config(),
  );
  assert.match(lb, /^add KUBE-LOAD-BALANCER-SOURCE-CIDR 192\.168\.70\.10,tcp:80,192\.168\.50\.2$/m);
  const f = parseIpvsRules(lb).families.get('IPv4')!;
  const verdict = (src: string) => traceJSON(traceIpvs(f, pkt(src, '192.168.70.10', 80), opts)).verdict;
  assert.equal(verdict('192.168.50.2'), 'DNAT');
  assert.equal(verdict('10.9.3.4'), 'DNAT');
  assert.equal(verdict('192.168.50.3'), 'DROP');
});

test('ipvs trace: SCTP node ports are masqueraded (their sets hash address,sctp:port); a health check node port is accepted', () => {
  const t = rulesText(
    stateOf([
      node('node1', '192.168.0.2'),
      service('ns', 's', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.12',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32000,
        ports: [{ name: 's', port: 80, targetPort: 8080, protocol: 'SCTP', nodePort: 30090 }],
      }),
      service('ns', 'c', { type: 'NodePort', clusterIP: '172.30.0.13', ports: [{ name: 's', port: 80, targetPort: 8080, protocol: 'SCTP', nodePort: 30091 }] }),
      slice('ns', 's', [ep('10.0.1.1', 'node1')], [{ name: 's', port: 8080, protocol: 'SCTP' }]),
      slice('ns', 'c', [ep('10.0.2.1', 'node2')], [{ name: 's', port: 8080, protocol: 'SCTP' }]),
    ]),
    config(),
  );
  const f = parseIpvsRules(t).families.get('IPv4')!;
  const sctp = (dport: number): Packet => ({ ...pkt('203.0.113.9', '192.168.0.2', dport), protocol: 'sctp' });
  assert.deepEqual(traceJSON(traceIpvs(f, sctp(30091), opts)).masquerade, true); // eTP Cluster
  assert.deepEqual(traceJSON(traceIpvs(f, sctp(30090), opts)).masquerade, false); // eTP Local keeps the client address
  assert.equal(traceJSON(traceIpvs(f, pkt('203.0.113.9', '192.168.0.2', 32000), opts)).verdict, 'ACCEPT');
});

test('ipvs trace: a hostNetwork real server at a node address takes traffic from elsewhere by local delivery, unmasqueraded', () => {
  const t = rulesText(
    stateOf([node('node1', '192.168.0.2'), service('ns', 'h', { type: 'NodePort', clusterIP: '172.30.0.14', ports: http(30100) }), slice('ns', 'h', [ep('192.168.0.2', 'node1')], p8080)]),
    config(),
  );
  const f = parseIpvsRules(t).families.get('IPv4')!;
  const fromOutside = traceIpvs(f, pkt('203.0.113.9', '192.168.0.2', 30100), opts);
  assert.deepEqual(
    fromOutside.outcomes.map((o) => [o.endpoint, o.masquerade]),
    [[{ ip: '192.168.0.2', port: 8080 }, false]],
  );
  // From the node itself (the output path) the mark is acted on in POSTROUTING.
  assert.equal(traceJSON(traceIpvs(f, pkt('192.168.0.2', '172.30.0.14', 80), opts)).masquerade, true);
});
