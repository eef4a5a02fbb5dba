// kproxy's own nftables ruleset for a mix of Services, for the lazy-parse tests.
import { ChangeTracker } from '../../src/model/tracker.js';
import { compileText } from '../../src/dataplanes/nftables/compile.js';
import { defaultConfig } from '../../src/config/load.js';

export const NODE = '192.168.0.2';
export const ip = (base: number, i: number) => `${base}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** kproxy's nftables ruleset for a mix of Services: NodePort, ClusterIP, ClientIP affinity, Local traffic policy, UDP, no endpoints. */
export function kproxyRuleset(services: number, mix = true): string {
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
  const cfg = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: ['10.0.0.0/8'], serviceClusterIPRange: ['172.16.0.0/12'] };
  return compileText(tracker.snapshot(), cfg);
}
