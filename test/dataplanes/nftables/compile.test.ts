import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { compileText } from '../../../src/dataplanes/nftables/compile.js';
import { parseNft, traceNft } from '../../../src/trace/nft/index.js';
import { traceJSON } from '../../../src/trace/result.js';
import { config, elementsOf, ep, rulesOf, service, slice, stateOf, type Obj } from './helpers.js';

const node = (addresses: string[], podCIDRs: string[] = []): Obj => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node1' },
  spec: { podCIDRs },
  status: { addresses: addresses.map((address) => ({ type: 'InternalIP', address })) },
});
const port80 = [{ name: 'p80', port: 80, protocol: 'TCP' }];
const svc1Chain = 'service-ULMVA6XW-ns1/svc1/tcp/p80';

test('ClusterIP with several endpoints: service-ips, masquerade rule, a shared pick chain and slot map', () => {
  const { state } = stateOf([service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: port80 }), slice('ns1', 'svc1', [ep('10.180.0.1', 'node1'), ep('10.180.0.2')], port80)]);
  const text = compileText(state, config());
  assert.deepEqual(elementsOf(text, 'service-ips'), [`172.30.0.41 . tcp . 80 : goto ${svc1Chain}`]);
  assert.deepEqual(elementsOf(text, 'cluster-ips'), ['172.30.0.41']);
  assert.deepEqual(rulesOf(text, svc1Chain), ['ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade', 'goto pick-cluster-tcp-2']);
  assert.deepEqual(rulesOf(text, 'pick-cluster-tcp-2'), [
    'meta l4proto tcp dnat to ip daddr . tcp dport . numgen random mod 2 map @service-endpoints-tcp',
    'meta l4proto tcp dnat to tcp dport . numgen random mod 2 map @nodeport-endpoints-tcp',
  ]);
  assert.deepEqual(elementsOf(text, 'service-endpoints-tcp'), ['172.30.0.41 . 80 . 0 : 10.180.0.1 . 80', '172.30.0.41 . 80 . 1 : 10.180.0.2 . 80']);
  // Hairpin only for the endpoint on this node: a remote pod's own Service traffic is proxied on its node.
  assert.deepEqual(elementsOf(text, 'hairpin'), ['10.180.0.1 . 10.180.0.1']);
  assert.deepEqual(rulesOf(text, 'cluster-ips-check'), [
    'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
    'ip daddr 172.30.0.0/16 drop comment "Drop traffic to unallocated ClusterIPs"',
  ]);
  assert.ok(text.startsWith('add table ip kproxy\ndelete table ip kproxy\nadd table ip kproxy { comment "rules for kproxy" ; }\n'));
  assert.ok(text.includes('\nadd table ip6 kproxy\ndelete table ip6 kproxy\n'));
});

test('one endpoint is a plain dnat; output is deterministic whatever the object order', () => {
  const objs = [
    service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: port80 }),
    slice('ns1', 'svc1', [ep('10.180.0.1', 'node1')], port80),
    service('ns2', 'svc2', { clusterIP: '172.30.0.42', ports: port80 }),
    slice('ns2', 'svc2', [ep('10.180.0.3'), ep('10.180.0.2')], port80),
  ];
  const a = compileText(stateOf(objs).state, config());
  const b = compileText(stateOf([...objs].reverse()).state, config());
  assert.equal(a, b);
  assert.deepEqual(rulesOf(a, svc1Chain).at(-1), 'meta l4proto tcp dnat to 10.180.0.1:80');
});

test('no endpoints: REJECT on every address; none usable for the policy: DROP', () => {
  const lb = service(
    'ns1',
    'svc1',
    { type: 'LoadBalancer', clusterIP: '172.30.0.41', externalIPs: ['192.168.99.11'], ports: [{ ...port80[0], nodePort: 3001 }] },
    { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
  );
  const none = compileText(stateOf([lb]).state, config());
  assert.deepEqual(elementsOf(none, 'no-endpoint-services'), ['172.30.0.41 . tcp . 80 : goto reject-chain', '192.168.99.11 . tcp . 80 : goto reject-chain', '1.2.3.4 . tcp . 80 : goto reject-chain']);
  assert.deepEqual(elementsOf(none, 'no-endpoint-nodeports'), ['tcp . 3001 : goto reject-chain']);
  assert.deepEqual(elementsOf(none, 'service-ips'), []);

  const itl = service('ns1', 'svc2', { clusterIP: '172.30.0.42', internalTrafficPolicy: 'Local', ports: port80 });
  const remoteOnly = slice('ns1', 'svc2', [ep('10.180.0.9', 'node2')], port80);
  const drop = compileText(stateOf([itl, remoteOnly]).state, config());
  assert.deepEqual(elementsOf(drop, 'no-endpoint-services'), ['172.30.0.42 . tcp . 80 : drop']);
});

test('eTP Local: short-circuit pods and the node, masquerade only local sources, else local endpoints', () => {
  const { state } = stateOf([
    node(['192.168.0.2']),
    service('ns1', 'svc1', { type: 'NodePort', clusterIP: '172.30.0.41', externalTrafficPolicy: 'Local', ports: [{ ...port80[0], nodePort: 3001 }] }),
    slice('ns1', 'svc1', [ep('10.180.0.1', 'node1'), ep('10.180.0.2', 'node2')], port80),
  ]);
  const text = compileText(state, config());
  assert.deepEqual(rulesOf(text, 'external-ULMVA6XW-ns1/svc1/tcp/p80'), [
    `ip saddr 10.0.0.0/8 goto ${svc1Chain} comment "short-circuit pod traffic"`,
    'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
    `fib saddr type local goto ${svc1Chain} comment "short-circuit local traffic"`,
    'goto local-ULMVA6XW-ns1/svc1/tcp/p80',
  ]);
  assert.deepEqual(rulesOf(text, 'local-ULMVA6XW-ns1/svc1/tcp/p80'), ['meta l4proto tcp dnat to 10.180.0.1:80']);
  assert.deepEqual(elementsOf(text, 'service-nodeports'), ['tcp . 3001 : goto external-ULMVA6XW-ns1/svc1/tcp/p80']);
  assert.deepEqual(elementsOf(text, 'nodeport-ips'), ['192.168.0.2']);
  // Two cluster-wide endpoints, reached from the ClusterIP and (short-circuit) the NodePort.
  assert.deepEqual(rulesOf(text, svc1Chain).at(-1), 'goto pick-cluster-tcp-2');
  assert.deepEqual(elementsOf(text, 'service-endpoints-tcp'), ['172.30.0.41 . 80 . 0 : 10.180.0.1 . 80', '172.30.0.41 . 80 . 1 : 10.180.0.2 . 80']);
  assert.deepEqual(elementsOf(text, 'nodeport-endpoints-tcp'), ['3001 . 0 : 10.180.0.1 . 80', '3001 . 1 : 10.180.0.2 . 80']);
  // eTP Cluster: every external connection is masqueraded.
  const cluster = compileText(
    stateOf([service('ns1', 'svc1', { type: 'NodePort', clusterIP: '172.30.0.41', ports: [{ ...port80[0], nodePort: 3001 }] }), slice('ns1', 'svc1', [ep('10.180.0.1', 'node1')], port80)]).state,
    config(),
  );
  assert.deepEqual(rulesOf(cluster, 'external-ULMVA6XW-ns1/svc1/tcp/p80'), ['jump mark-for-masquerade', `goto ${svc1Chain}`]);
});

test('loadBalancerSourceRanges: firewall before DNAT; a range with the node IP admits the LB IPs', () => {
  const objs = (ranges: string[]) => [
    node(['192.168.0.2']),
    service(
      'ns1',
      'svc1',
      { type: 'LoadBalancer', clusterIP: '172.30.0.41', loadBalancerSourceRanges: ranges, ports: [{ ...port80[0], nodePort: 3001 }] },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { ip: '5.6.7.8', ipMode: 'Proxy' }] } },
    ),
    slice('ns1', 'svc1', [ep('10.180.0.1', 'node1')], port80),
  ];
  const text = compileText(stateOf(objs([' 203.0.113.0/25 '])).state, config());
  assert.deepEqual(rulesOf(text, 'firewall-ULMVA6XW-ns1/svc1/tcp/p80'), ['ip saddr != 203.0.113.0/25 drop']);
  assert.deepEqual(elementsOf(text, 'firewall-ips'), ['1.2.3.4 . tcp . 80 : goto firewall-ULMVA6XW-ns1/svc1/tcp/p80']);
  // ipMode Proxy is not captured.
  assert.ok(!elementsOf(text, 'service-ips').some((e) => e.startsWith('5.6.7.8')));
  const withNode = compileText(stateOf(objs(['203.0.113.0/25', '192.168.0.0/24'])).state, config());
  assert.deepEqual(rulesOf(withNode, 'firewall-ULMVA6XW-ns1/svc1/tcp/p80'), ['ip saddr != { 203.0.113.0/25, 192.168.0.0/24, 1.2.3.4 } drop']);
});

test('local-traffic detector modes and masqueradeAll shape the ClusterIP masquerade rule', () => {
  const objs = [node(['192.168.0.2'], ['10.0.5.0/24']), service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: port80 }), slice('ns1', 'svc1', [ep('10.180.0.1', 'node1')], port80)];
  const first = (over: Parameters<typeof config>[0]) => rulesOf(compileText(stateOf(objs).state, config(over)), svc1Chain)[0];
  assert.equal(first({}), 'ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade');
  assert.equal(first({ detectLocalMode: 'NodeCIDR' }), 'ip daddr 172.30.0.41 ip saddr != 10.0.5.0/24 jump mark-for-masquerade');
  assert.equal(
    first({ detectLocalMode: 'InterfaceNamePrefix', detectLocal: { bridgeInterface: '', interfaceNamePrefix: 'veth' } }),
    'ip daddr 172.30.0.41 iifname != "veth*" jump mark-for-masquerade',
  );
  assert.equal(first({ detectLocalMode: 'BridgeInterface', detectLocal: { bridgeInterface: 'cbr0', interfaceNamePrefix: '' } }), 'ip daddr 172.30.0.41 iifname != "cbr0" jump mark-for-masquerade');
  assert.equal(first({ detectLocalMode: 'None' }), 'meta l4proto tcp dnat to 10.180.0.1:80');
  assert.equal(first({ detectLocalMode: 'None', masqueradeAll: true }), 'ip daddr 172.30.0.41 jump mark-for-masquerade');
});

test('nodePortAddresses: /0 means every local address but loopback', () => {
  const { state } = stateOf([service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: port80 })]);
  const all = compileText(state, config({ nodePortAddresses: ['0.0.0.0/0'] }));
  assert.deepEqual(rulesOf(all, 'services')[1], 'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports');
  assert.ok(!all.includes('add set ip kproxy nodeport-ips'));
});

test('dual-stack: each family in its own table, from the same ProxyState', () => {
  const { state } = stateOf([
    service('ns1', 'svc1', { clusterIP: '172.30.0.41', clusterIPs: ['172.30.0.41', 'fd00:10:96::41'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', ports: port80 }),
    slice('ns1', 'svc1', [ep('10.180.0.1', 'node1')], port80),
    slice('ns1', 'svc1', [ep('fd00:10::1', 'node1'), ep('fd00:10::2')], port80, 'svc1-v6', 'IPv6'),
  ]);
  const text = compileText(state, config({ clusterCIDRs: ['10.0.0.0/8', 'fd00:10::/64'], serviceClusterIPRange: ['172.30.0.0/16', 'fd00:10:96::/112'] }));
  assert.deepEqual(elementsOf(text, 'service-ips', 'ip6'), [`fd00:10:96::41 . tcp . 80 : goto ${svc1Chain}`]);
  assert.deepEqual(rulesOf(text, svc1Chain, 'ip6'), ['ip6 daddr fd00:10:96::41 ip6 saddr != fd00:10::/64 jump mark-for-masquerade', 'goto pick-cluster-tcp-2']);
  assert.deepEqual(elementsOf(text, 'service-endpoints-tcp', 'ip6'), ['fd00:10:96::41 . 80 . 0 : fd00:10::1 . 80', 'fd00:10:96::41 . 80 . 1 : fd00:10::2 . 80']);
  assert.equal(rulesOf(text, 'pick-cluster-tcp-2', 'ip6')[0], 'meta l4proto tcp dnat to ip6 daddr . tcp dport . numgen random mod 2 map @service-endpoints-tcp');
  assert.deepEqual(elementsOf(text, 'service-ips', 'ip'), [`172.30.0.41 . tcp . 80 : goto ${svc1Chain}`]);
  assert.ok(rulesOf(text, 'cluster-ips-check', 'ip6').includes('ip6 daddr fd00:10:96::/112 drop comment "Drop traffic to unallocated ClusterIPs"'));
});

test('ClientIP affinity: upstream endpoint chains and timeout sets, chosen through endpoint-chains', () => {
  const { state } = stateOf([
    service('ns1', 'svc1', { clusterIP: '172.30.0.41', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } }, ports: port80 }),
    slice('ns1', 'svc1', [ep('10.180.0.1', 'node1'), ep('10.180.0.3')], port80),
  ]);
  const text = compileText(state, config({ detectLocalMode: 'None' }));
  const ep1 = '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80';
  assert.ok(text.includes(`add set ip kproxy affinity-${ep1} { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }`));
  assert.deepEqual(rulesOf(text, `endpoint-${ep1}`), [`update @affinity-${ep1} { ip saddr }`, 'meta l4proto tcp dnat to 10.180.0.1:80']);
  const rules = rulesOf(text, svc1Chain);
  assert.equal(rules[0], `ip saddr @affinity-${ep1} goto endpoint-${ep1}`);
  assert.equal(rules[2], 'goto pick-cluster-affinity-2');
  assert.equal(elementsOf(text, 'service-endpoint-chains')[0], `172.30.0.41 . tcp . 80 . 0 : goto endpoint-${ep1}`);
});

test('ClientIP affinity with TCP and UDP on one port number (DNS): each protocol reaches its own endpoint chains', () => {
  // The affinity maps serve every protocol: without the protocol in their keys, the UDP
  // port's elements lost to the TCP port's, and UDP traffic went to the TCP endpoint chains
  // (whose `meta l4proto tcp dnat` it does not match) and was rejected.
  const dnsPorts = [
    { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ];
  const { state } = stateOf([
    node(['192.168.0.2']),
    service('ns1', 'dns', { type: 'NodePort', clusterIP: '172.30.0.10', sessionAffinity: 'ClientIP', ports: dnsPorts.map((p) => ({ ...p, nodePort: 30053 })) }),
    slice('ns1', 'dns', [ep('10.180.0.1', 'node2'), ep('10.180.0.2', 'node2')], dnsPorts),
  ]);
  const text = compileText(state, config());
  const keys = (set: string) => elementsOf(text, set).map((e) => e.split(' : ')[0]);
  assert.deepEqual(keys('service-endpoint-chains').sort(), ['172.30.0.10 . tcp . 53 . 0', '172.30.0.10 . tcp . 53 . 1', '172.30.0.10 . udp . 53 . 0', '172.30.0.10 . udp . 53 . 1']);
  assert.deepEqual(keys('nodeport-endpoint-chains').sort(), ['tcp . 30053 . 0', 'tcp . 30053 . 1', 'udp . 30053 . 0', 'udp . 30053 . 1']);
  const rs = parseNft(text);
  for (const protocol of ['udp', 'tcp'] as const) {
    for (const [dst, dport] of [
      ['172.30.0.10', 53],
      ['192.168.0.2', 30053],
    ] as const) {
      const r = traceJSON(traceNft(rs, { family: 'IPv4', protocol, src: '10.1.0.9', dst, dport, sport: 40000 }, { localAddresses: ['192.168.0.2'] }));
      assert.equal(r.verdict, 'DNAT', `${protocol} to ${dst}:${dport}`);
      assert.deepEqual(
        r.endpoints.map((e) => [e.ip, e.port, e.probability]),
        [
          ['10.180.0.1', 53, 0.5],
          ['10.180.0.2', 53, 0.5],
        ],
      );
    }
  }
});

test('iTP Local and eTP Local together: ClusterIP to local endpoints, pods still short-circuit externally', () => {
  const { state } = stateOf([
    node(['192.168.0.2']),
    service('ns1', 'svc1', { type: 'NodePort', clusterIP: '172.30.0.41', internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local', ports: [{ ...port80[0], nodePort: 3001 }] }),
    slice('ns1', 'svc1', [ep('10.180.0.1', 'node1'), ep('10.180.0.2', 'node2')], port80),
  ]);
  const text = compileText(state, config());
  assert.deepEqual(elementsOf(text, 'service-ips'), ['172.30.0.41 . tcp . 80 : goto local-ULMVA6XW-ns1/svc1/tcp/p80']);
  assert.deepEqual(rulesOf(text, 'local-ULMVA6XW-ns1/svc1/tcp/p80'), ['ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade', 'meta l4proto tcp dnat to 10.180.0.1:80']);
  assert.equal(rulesOf(text, 'external-ULMVA6XW-ns1/svc1/tcp/p80')[0], `ip saddr 10.0.0.0/8 goto ${svc1Chain} comment "short-circuit pod traffic"`);
  // The cluster-wide chain is reached only by the NodePort short-circuit: its slots are keyed by the node port.
  assert.deepEqual(elementsOf(text, 'nodeport-endpoints-tcp'), ['3001 . 0 : 10.180.0.1 . 80', '3001 . 1 : 10.180.0.2 . 80']);
  assert.deepEqual(elementsOf(text, 'service-endpoints-tcp'), []);
});
