// kproxy's own rulesets (nftables, iptables) for a mix of Services, and the packets that
// visit every one of them: what the lazy-parse tests compare against a full parse.
import { ChangeTracker } from '../../src/model/tracker.js';
import { compileText } from '../../src/dataplanes/nftables/compile.js';
import { rulesetCompiler } from '../../src/dataplanes/registry.js';
import { defaultConfig } from '../../src/config/load.js';
import type { ProxyState } from '../../src/model/types.js';
import type { Packet } from '../../src/trace/result.js';

export const NODE = '192.168.0.2';
export const ip = (base: number, i: number) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

export const tcp = (src: string, dst: string, dport: number, protocol: Packet['protocol'] = 'tcp'): Packet => ({ family: 'IPv4', protocol, src, dst, dport, sport: 40000 });

/** A mix of Services: NodePort, NodePort with Local traffic policy, ClientIP affinity, UDP, some without endpoints (all NodePort without `mix`). */
function mixedServices(services: number, mix: boolean): ProxyState {
  const tracker = new ChangeTracker({ nodeName: 'n1', machineAddresses: [NODE] });
  for (let s = 0; s < services; s++) {
    const kind = mix ? s % 5 : 0;
    tracker.upsert({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'ns', name: `svc-${s}` },
      spec: {
        clusterIP: ip(172, 0x100000 + s),
        ports: [{ name: 'p', port: 80, protocol: kind === 3 ? 'UDP' : 'TCP', ...(kind < 2 ? { nodePort: 30000 + s } : {}) }],
        ...(kind < 2 ? { type: 'NodePort' } : {}),
        ...(kind === 1 ? { externalTrafficPolicy: 'Local' } : {}),
        ...(kind === 2 ? { sessionAffinity: 'ClientIP' } : {}),
      },
    });
    if (kind === 4 && s % 10 === 9) continue; // some Services have no endpoints
    const endpoints = Array.from({ length: 1 + (s % 4) }, (_, e) => ({ addresses: [ip(10, s * 8 + e + 1)], nodeName: e === 0 ? 'n1' : 'other' }));
    tracker.upsert({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns', name: `svc-${s}-1`, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
      addressType: 'IPv4',
      endpoints,
      ports: [{ name: 'p', port: 8080, protocol: kind === 3 ? 'UDP' : 'TCP' }],
    });
  }
  return tracker.snapshot();
}

const config = <M extends 'nftables' | 'iptables'>(mode: M) => ({ ...defaultConfig(), mode, clusterCIDRs: ['10.0.0.0/8'], serviceClusterIPRange: ['172.16.0.0/12'] });

/** kproxy's nftables ruleset for the mix. */
export function kproxyRuleset(services: number, mix = true): string {
  return compileText(mixedServices(services, mix), config('nftables'));
}

/** kproxy's iptables ruleset (iptables-restore input) for the mix. */
export async function kproxyIptablesRuleset(services: number): Promise<string> {
  return (await rulesetCompiler('iptables'))!(mixedServices(services, true), config('iptables'));
}

/** Packets to every Service of the mix: its ClusterIP (from outside; from the node and to a wrong port for some), its NodePort on the node and on loopback; then one to an unknown ClusterIP and one to a port of the node nothing serves. */
export function mixPackets(services: number): Packet[] {
  const packets: Packet[] = [];
  for (let s = 0; s < services; s++) {
    const proto = s % 5 === 3 ? 'udp' : 'tcp';
    packets.push(tcp('10.200.0.9', ip(172, 0x100000 + s), 80, proto));
    if (s % 7 === 0) packets.push(tcp(NODE, ip(172, 0x100000 + s), 80, proto), tcp('10.200.0.9', ip(172, 0x100000 + s), 81, proto));
    if (s % 5 < 2) packets.push(tcp('10.200.0.9', NODE, 30000 + s), tcp('127.0.0.1', '127.0.0.1', 30000 + s));
  }
  packets.push(tcp('10.200.0.9', '172.16.255.1', 80), tcp('10.200.0.9', NODE, 22));
  return packets;
}
