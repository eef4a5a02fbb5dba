// Figures derived from a ProxyState that kube-proxy reports after every sync.
import type { ProxyState, ServicePortState } from './types.js';

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

/** Ready endpoints of one service port on this node. */
export function localReadyEndpoints(sp: ServicePortState): number {
  let n = 0;
  for (const ep of sp.endpoints) if (ep.isLocal && ep.ready) n++;
  return n;
}

/**
 * Ready endpoints of a Service on this node: the largest count over its ports (what its
 * health-check node port reports). Walks every port: for one Service at a time.
 */
export function localReadyEndpointCount(state: ProxyState, namespace: string, name: string): number {
  let max = 0;
  for (const sp of state.servicePorts.values()) {
    if (sp.namespace !== namespace || sp.name !== name) continue;
    max = Math.max(max, localReadyEndpoints(sp));
  }
  return max;
}
