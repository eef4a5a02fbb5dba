// Figures derived from a ProxyState that kube-proxy reports after every sync.
import type { ProxyState } from './types.js';

/**
 * Service ports whose Local policy has no node-local endpoint while endpoints exist
 * elsewhere (kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy}).
 */
export function noLocalEndpointCounts(state: ProxyState): { internal: number; external: number } {
  let internal = 0;
  let external = 0;
  for (const sp of state.servicePorts.values()) {
    if (!sp.hasEndpoints || (sp.localEndpoints && sp.localEndpoints.length > 0)) continue;
    if (sp.internalPolicyLocal) internal++;
    if (sp.externalPolicyLocal) external++;
  }
  return { internal, external };
}

/** Service ports with at least one ready node-local endpoint, by healthCheckNodePort. */
export function localReadyEndpointCount(state: ProxyState, namespace: string, name: string): number {
  let max = 0;
  for (const sp of state.servicePorts.values()) {
    if (sp.namespace !== namespace || sp.name !== name) continue;
    max = Math.max(max, sp.endpoints.filter((ep) => ep.isLocal && ep.ready).length);
  }
  return max;
}
