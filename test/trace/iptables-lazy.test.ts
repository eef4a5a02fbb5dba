// A lazy iptables parse keeps rule lines as text until a trace reaches their chain: it must
// give exactly the answer of a full parse, and still name the line of a bad rule it reaches.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptables, traceIptables } from '../../src/trace/iptables/index.js';
import { traceJSON, type Packet } from '../../src/trace/result.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { defaultConfig } from '../../src/config/load.js';
import { rulesetCompiler } from '../../src/dataplanes/registry.js';

const NODE = '192.168.0.2';
const ip = (base: number, i: number) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const tcp = (src: string, dst: string, dport: number): Packet => ({ family: 'IPv4', protocol: 'tcp', src, dst, dport, sport: 40000 });

async function kproxyIptables(services: number): Promise<string> {
  const tracker = new ChangeTracker({ nodeName: 'n1', machineAddresses: [NODE] });
  for (let s = 0; s < services; s++) {
    const kind = s % 4;
    tracker.upsert({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'ns', name: `svc-${s}` },
      spec: {
        clusterIP: ip(172, 0x100000 + s),
        ports: [{ name: 'p', port: 80, protocol: 'TCP', ...(kind < 2 ? { nodePort: 30000 + s } : {}) }],
        ...(kind < 2 ? { type: 'NodePort' } : {}),
        ...(kind === 1 ? { externalTrafficPolicy: 'Local' } : {}),
        ...(kind === 2 ? { sessionAffinity: 'ClientIP' } : {}),
      },
    });
    tracker.upsert({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns', name: `svc-${s}-1`, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 1 + (s % 3) }, (_, e) => ({ addresses: [ip(10, s * 8 + e + 1)], nodeName: e === 0 ? 'n1' : 'other' })),
      ports: [{ name: 'p', port: 8080, protocol: 'TCP' }],
    });
  }
  const cfg = { ...defaultConfig(), mode: 'iptables' as const, clusterCIDRs: ['10.0.0.0/8'], serviceClusterIPRange: ['172.16.0.0/12'] };
  return (await rulesetCompiler('iptables'))!(tracker.snapshot(), cfg);
}

describe('iptables parser, lazily', () => {
  it('gives the same trace as a full parse for every Service of a kproxy ruleset', async () => {
    const text = await kproxyIptables(120);
    const full = parseIptables(text);
    const lazy = parseIptables(text, { lazy: true });
    const packets: Packet[] = [];
    for (let s = 0; s < 120; s++) {
      packets.push(tcp('10.200.0.9', ip(172, 0x100000 + s), 80), tcp(NODE, ip(172, 0x100000 + s), 80));
      if (s % 4 < 2) packets.push(tcp('10.200.0.9', NODE, 30000 + s));
    }
    packets.push(tcp('10.200.0.9', '172.16.255.1', 80), tcp('10.200.0.9', NODE, 22));
    for (const p of packets) {
      const want = traceJSON(traceIptables(full, p, { localAddresses: [NODE] }));
      assert.deepEqual(traceJSON(traceIptables(lazy, p, { localAddresses: [NODE] })), want, `${p.src} → ${p.dst}:${p.dport}`);
    }
  });

  it('names the line of a bad rule a trace reaches; one it does not reach is found only by a full parse', () => {
    const text = '*nat\n:PREROUTING ACCEPT [0:0]\n:OTHER - [0:0]\n-A PREROUTING -d 10.0.0.1/32 -j DROP\n-A OTHER stray -d 10.0.0.2/32 -j DROP\n-I PREROUTING 2 -d 10.0.0.2/32 -j OTHER\nCOMMIT\n';
    const lazy = parseIptables(text, { lazy: true });
    assert.equal(traceJSON(traceIptables(lazy, tcp('1.1.1.1', '10.0.0.1', 80), { localAddresses: [] })).verdict, 'DROP');
    assert.throws(() => traceIptables(lazy, tcp('1.1.1.1', '10.0.0.2', 80), { localAddresses: [] }), /line 5: -A OTHER .*: unexpected "stray"/);
    assert.throws(() => parseIptables(text), /line 5: -A OTHER .*: unexpected "stray"/);
  });
});
