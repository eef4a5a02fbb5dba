import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCIDR, parseIP } from '../../src/api/ip.js';
import { validateEndpointSlice, validateNode, validateService } from '../../src/api/validate.js';
import { service, slice } from '../helpers/objects.js';

function rejected(o: Parameters<typeof validateService>[0]) {
  const v = validateService(o);
  assert.equal(v.ok, false, 'expected a rejection');
  return (v as { ok: false; error: { field: string; reason: string; namespace: string; name: string } }).error;
}

describe('IP parsing', () => {
  it('accepts IPv4 with leading zeros as decimal and writes it back canonical', () => {
    assert.deepEqual(parseIP('010.001.002.003'), { ip: '10.1.2.3', family: 'IPv4' });
    assert.deepEqual(parseIP(' 192.168.000.001 '), { ip: '192.168.0.1', family: 'IPv4' });
  });
  it('canonicalises IPv6 and folds IPv4-mapped addresses', () => {
    assert.deepEqual(parseIP('2001:DB8:0:0::1'), { ip: '2001:db8::1', family: 'IPv6' });
    assert.deepEqual(parseIP('::ffff:10.0.0.1'), { ip: '10.0.0.1', family: 'IPv4' });
  });
  it('rejects what is not an address', () => {
    for (const bad of ['10.0.0.256', '10.0.0', 'abc', '', '1.2.3.4.5', '::g']) assert.equal(parseIP(bad), null, bad);
  });
  it('parses CIDRs with whitespace and masks the network', () => {
    assert.equal(parseCIDR(' 203.0.113.7/25 ')?.cidr, '203.0.113.0/25');
    assert.equal(parseCIDR('fd00:10::5/64')?.cidr, 'fd00:10::/64');
    assert.equal(parseCIDR('10.0.0.0/33'), null);
    assert.equal(parseCIDR('10.0.0.0'), null);
  });
});

describe('Service validation', () => {
  it('normalises a valid Service with kube-proxy defaults', () => {
    const v = validateService(service('ns', 'web', { clusterIP: '010.096.000.010', ports: [{ port: 80 }] }));
    assert.ok(v.ok);
    const s = v.value;
    assert.deepEqual(s.clusterIPs, ['10.96.0.10']);
    assert.deepEqual(s.ipFamilies, ['IPv4']);
    assert.equal(s.type, 'ClusterIP');
    assert.equal(s.ports[0].protocol, 'TCP');
    assert.equal(s.externalTrafficPolicy, 'Cluster');
    assert.equal(s.internalTrafficPolicy, 'Cluster');
    assert.deepEqual(s.sessionAffinity, { type: 'None', timeoutSeconds: 0 });
  });
  it('defaults the ClientIP affinity timeout to 10800 s', () => {
    const v = validateService(service('ns', 'a', { clusterIP: '10.96.0.1', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }));
    assert.ok(v.ok);
    assert.deepEqual(v.value.sessionAffinity, { type: 'ClientIP', timeoutSeconds: 10800 });
  });
  it('names object and field for each kind of problem', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ clusterIP: '10.96.0.300', ports: [{ port: 80 }] }, 'spec.clusterIP', /not a valid IP/],
      [{ clusterIP: '10.96.0.1', ports: [{ name: 'a', port: 0 }] }, 'spec.ports[0].port', /out of range/],
      [{ clusterIP: '10.96.0.1', ports: [{ name: 'a', port: 70000 }] }, 'spec.ports[0].port', /out of range/],
      [
        {
          clusterIP: '10.96.0.1',
          ports: [
            { name: 'a', port: 80 },
            { name: 'a', port: 81 },
          ],
        },
        'spec.ports[1].name',
        /duplicate/,
      ],
      [{ clusterIP: '10.96.0.1', ports: [{ port: 80, protocol: 'ICMP' }] }, 'spec.ports[0].protocol', /unsupported protocol/],
      [
        { clusterIP: '10.96.0.1', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: -1 } }, ports: [{ port: 80 }] },
        'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
        /1-86400/,
      ],
      [
        { clusterIP: '10.96.0.1', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 86401 } }, ports: [{ port: 80 }] },
        'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
        /1-86400/,
      ],
      [{ clusterIP: '10.96.0.1', type: 'LoadBalancer', loadBalancerSourceRanges: ['1.2.3.0/33'], ports: [{ port: 80 }] }, 'spec.loadBalancerSourceRanges[0]', /CIDR/],
      [{ clusterIP: '10.96.0.1', externalIPs: ['1.2.3'], ports: [{ port: 80 }] }, 'spec.externalIPs[0]', /not a valid IP/],
      [{ clusterIP: '10.96.0.1', type: 'Magic', ports: [{ port: 80 }] }, 'spec.type', /unsupported value/],
      [{ clusterIPs: ['10.96.0.1', '10.96.0.2'], ipFamilyPolicy: 'PreferDualStack', ports: [{ port: 80 }] }, 'spec.clusterIPs[1]', /one address of each family/],
      [{ clusterIPs: ['10.96.0.1', 'fd00::1'], ports: [{ port: 80 }] }, 'spec.ipFamilyPolicy', /SingleStack/],
      [{ clusterIP: '10.96.0.1', ipFamilies: ['IPv6'], ports: [{ port: 80 }] }, 'spec.ipFamilies[0]', /does not match/],
      [{ type: 'ExternalName', ports: [] }, 'spec.externalName', /required/],
      [{ clusterIP: '10.96.0.1', externalTrafficPolicy: 'Global', ports: [{ port: 80 }] }, 'spec.externalTrafficPolicy', /Cluster, Local/],
    ];
    for (const [spec, field, reason] of cases) {
      const e = rejected(service('shop', 'broken', spec));
      assert.equal(e.namespace, 'shop');
      assert.equal(e.name, 'broken');
      assert.equal(e.field, field, JSON.stringify(spec));
      assert.match(e.reason, reason);
    }
  });
  it('tolerates whitespace in loadBalancerSourceRanges and keeps ipMode', () => {
    const v = validateService(
      service(
        'ns',
        'lb',
        { type: 'LoadBalancer', clusterIP: '10.96.0.1', loadBalancerSourceRanges: [' 203.0.113.0/25 '], ports: [{ port: 80, nodePort: 30080 }] },
        {
          status: { loadBalancer: { ingress: [{ ip: '1.2.3.4', ipMode: 'Proxy' }, { ip: '5.6.7.8' }] } },
        },
      ),
    );
    assert.ok(v.ok);
    assert.deepEqual(v.value.loadBalancerSourceRanges, ['203.0.113.0/25']);
    assert.deepEqual(
      v.value.loadBalancerIngress.map((i) => [i.ip, i.ipMode]),
      [
        ['1.2.3.4', 'Proxy'],
        ['5.6.7.8', 'VIP'],
      ],
    );
  });
  it('recognises headless, ExternalName and dual-stack Services', () => {
    const h = validateService(service('ns', 'h', { clusterIP: 'None', ports: [{ port: 80 }] }));
    assert.ok(h.ok && h.value.headless);
    const e = validateService(service('ns', 'e', { type: 'ExternalName', externalName: 'Example.COM.' }));
    assert.ok(e.ok && e.value.externalName === 'example.com');
    const d = validateService(service('ns', 'd', { clusterIPs: ['fd00::a', '10.96.0.5'], ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] }));
    assert.ok(d.ok);
    assert.deepEqual(d.value.ipFamilies, ['IPv6', 'IPv4']);
  });
  it('accepts a nodePort anywhere in 1-65535 (range checks belong to allocation)', () => {
    const v = validateService(service('ns', 'np', { type: 'NodePort', clusterIP: '10.96.0.1', ports: [{ port: 80, nodePort: 123 }] }));
    assert.ok(v.ok && v.value.ports[0].nodePort === 123);
  });
});

describe('EndpointSlice and Node validation', () => {
  it('defaults conditions as upstream: ready unset = ready, serving = ready, terminating = false', () => {
    const v = validateEndpointSlice(slice('ns', 'svc', 's1', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false }], [{ port: 80 }]));
    assert.ok(v.ok);
    assert.deepEqual(
      v.value.endpoints.map((e) => e.conditions),
      [
        { ready: true, serving: true, terminating: false },
        { ready: false, serving: false, terminating: false },
      ],
    );
  });
  it('rejects an address of the wrong family and a missing service-name label', () => {
    const bad = validateEndpointSlice(slice('ns', 'svc', 's1', [{ ip: 'fd00::1' }], [{ port: 80 }]));
    assert.ok(!bad.ok && bad.error.field === 'endpoints[0].addresses[0]');
    const o = slice('ns', 'svc', 's2', [{ ip: '10.0.0.1' }], [{ port: 80 }]);
    (o.metadata as { labels: Record<string, string> }).labels = {};
    const nolabel = validateEndpointSlice(o);
    assert.ok(!nolabel.ok && /service-name/.test(nolabel.error.field));
  });
  it('reads node addresses, zone label and deletion', () => {
    const v = validateNode({
      kind: 'Node',
      metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'z' }, deletionTimestamp: '2026-01-01T00:00:00Z' },
      spec: { podCIDR: '10.244.1.0/24' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '192.168.000.002' },
          { type: 'Hostname', address: 'n1' },
        ],
      },
    });
    assert.ok(v.ok);
    assert.deepEqual(v.value.addresses[0], { type: 'InternalIP', address: '192.168.0.2' });
    assert.deepEqual(v.value.podCIDRs, ['10.244.1.0/24']);
    assert.equal(v.value.deleting, true);
  });
  it('takes one pod CIDR per IP family, as the API server does', () => {
    const node = (podCIDRs: string[]) => validateNode({ kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDRs } });
    const dual = node(['10.244.1.0/24', 'fd00:10:244:1::/64']);
    assert.ok(dual.ok);
    assert.deepEqual(dual.value.podCIDRs, ['10.244.1.0/24', 'fd00:10:244:1::/64']);
    const two = node(['10.244.1.0/24', '100.64.1.0/24']);
    assert.ok(!two.ok);
    assert.equal(two.error.field, 'spec.podCIDRs[1]');
    assert.match(two.error.reason, /at most one pod CIDR of each IP family/);
  });
});
