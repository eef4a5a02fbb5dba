// North-south traffic (NodePort, externalIPs, LoadBalancer IPs from outside the node) never
// passes through a socket of the workloads' cgroup, so the ebpf mode hands it to the
// nftables dataplane: that dataplane gets the service ports that have an external entry point
// (their ClusterIP comes along, as the NodePort chains share it) and nothing else, so a
// ClusterIP-only Service has no nftables rule at all.
import type { ProxyState, ServicePortState } from '../../model/types.js';

export function northSouthState(state: ProxyState): ProxyState {
  const servicePorts = new Map<string, ServicePortState>();
  for (const [k, sp] of state.servicePorts) if (sp.external !== null) servicePorts.set(k, sp);
  return { ...state, servicePorts };
}
