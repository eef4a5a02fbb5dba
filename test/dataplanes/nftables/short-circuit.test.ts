// externalTrafficPolicy: Local on a node with no local endpoint: Pods on this node and the
// node itself reach the LoadBalancer IP, an externalIP and the NodePort through the
// cluster-wide endpoints (kube-proxy short-circuits them); only traffic from outside is
// dropped. Checked through the compiler and the nft tracer; test/kernel does it with packets.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { compileText } from '../../../src/dataplanes/nftables/compile.js';
import { parseNft, traceNft } from '../../../src/trace/nft/index.js';
import { traceJSON, type Packet } from '../../../src/trace/result.js';
import { config, ep, service, slice, stateOf } from './helpers.js';

const NODE_IP = '192.168.0.2';
const port80 = [{ name: 'p80', port: 80, protocol: 'TCP' }];
const objects = [
  service(
    'ns1',
    'lb',
    { type: 'LoadBalancer', clusterIP: '172.30.0.42', externalIPs: ['192.168.99.11'], externalTrafficPolicy: 'Local', ports: [{ ...port80[0], nodePort: 3001 }] },
    { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
  ),
  slice('ns1', 'lb', [ep('10.180.0.1', 'node2'), ep('10.180.0.2', 'node3')], port80),
];
const rs = parseNft(compileText(stateOf(objects).state, config()));
const trace = (src: string, dst: string, dport: number) => {
  const p: Packet = { family: 'IPv4', protocol: 'tcp', src, dst, dport, sport: 40000 };
  return traceJSON(traceNft(rs, p, { localAddresses: [NODE_IP] }));
};
const endpoints = (r: ReturnType<typeof trace>) => r.endpoints.map((e) => `${e.ip}:${e.port}`).sort();
const REMOTE = ['10.180.0.1:80', '10.180.0.2:80'];

for (const [what, dst, dport] of [
  ['LB IP', '1.2.3.4', 80],
  ['externalIP', '192.168.99.11', 80],
  ['NodePort', NODE_IP, 3001],
] as const) {
  test(`eTP Local, no local endpoint: a Pod reaching the ${what} is short-circuited to the remote endpoints`, () => {
    const r = trace('10.0.0.5', dst, dport);
    assert.equal(r.verdict, 'DNAT');
    assert.deepEqual(endpoints(r), REMOTE);
    assert.equal(r.masquerade, false, 'pod traffic keeps its source');
  });

  test(`eTP Local, no local endpoint: the node itself reaching the ${what} is short-circuited and masqueraded`, () => {
    const r = trace(NODE_IP, dst, dport);
    assert.equal(r.verdict, 'DNAT');
    assert.deepEqual(endpoints(r), REMOTE);
    assert.equal(r.masquerade, true);
  });

  test(`eTP Local, no local endpoint: an external client reaching the ${what} is dropped`, () => {
    assert.equal(trace('203.0.113.7', dst, dport).verdict, 'DROP');
  });
}

test('eTP Local with no endpoint anywhere: every source is rejected', () => {
  const none = parseNft(compileText(stateOf([objects[0]]).state, config()));
  for (const src of ['10.0.0.5', NODE_IP, '203.0.113.7']) {
    const r = traceJSON(traceNft(none, { family: 'IPv4', protocol: 'tcp', src, dst: '1.2.3.4', dport: 80, sport: 40000 }, { localAddresses: [NODE_IP] }));
    assert.equal(r.verdict, 'REJECT', `from ${src}`);
  }
});
