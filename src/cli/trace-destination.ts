// Which Service a traced destination belongs to, for the header of `kproxy trace`: the
// ClusterIP, externalIP, LoadBalancer IP or NodePort of a service port, or nothing.
import type { ProxyState } from '../model/types.js';
import type { Packet } from '../trace/result.js';

export function describeDestination(state: ProxyState | null, p: Packet, localAddresses: readonly string[]): string {
  if (!state) return 'destination: not looked up (no --manifests to read the Services from)';
  const proto = p.protocol.toUpperCase();
  const hits: string[] = [];
  for (const sp of state.servicePorts.values()) {
    if (sp.protocol !== proto) continue;
    if (sp.port === p.dport) {
      if (sp.clusterIP === p.dst) hits.push(`${sp.servicePortName} (ClusterIP)`);
      else if (sp.externalIPs.includes(p.dst)) hits.push(`${sp.servicePortName} (externalIP)`);
      else if (sp.loadBalancerIPs.includes(p.dst)) hits.push(`${sp.servicePortName} (LoadBalancer IP)`);
    }
    if (sp.nodePort === p.dport && (localAddresses.includes(p.dst) || p.dst.startsWith('127.') || p.dst === '::1')) hits.push(`${sp.servicePortName} (NodePort on a node address)`);
  }
  for (const s of state.services.values()) {
    if (s.headless && s.clusterIPs.length === 0) continue;
    if (s.type === 'ExternalName') continue;
    if (s.clusterIPs.includes(p.dst) && !hits.some((h) => h.startsWith(`${s.namespace}/${s.name}`))) hits.push(`${s.namespace}/${s.name} (its ClusterIP, but no ${proto} port ${p.dport})`);
  }
  if (hits.length === 0) return `destination: ${p.dst}:${p.dport}/${proto} is no Service's address and port in this folder`;
  return `destination: Service ${hits.join('; ')}`;
}
