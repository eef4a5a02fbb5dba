// The model's per-entry-point decisions for one service port, in the shape the iptables
// compiler reads. Every choice here (which endpoints, reject or drop, short-circuit, allowed
// sources) was made by the model; this file only gathers the fields in one place.
import { cidrContains, parseCIDR } from '../../api/ip.js';
import type { Endpoint, ServicePortState } from '../../model/types.js';

export type NoEndpoints = 'reject' | 'drop' | null;

export interface InternalEntry {
  policy: 'Cluster' | 'Local';
  endpoints: readonly Endpoint[];
  noEndpoints: NoEndpoints;
}

export interface ExternalEntry {
  policy: 'Cluster' | 'Local';
  /** The Service has usable endpoints somewhere: its external addresses are DNAT'd. */
  capture: boolean;
  endpoints: readonly Endpoint[];
  /** eTP Local: traffic from this node's pods and the node itself goes to the cluster set. */
  shortCircuit: boolean;
  /** 'all': every external connection is masqueraded; 'node': only node-originated ones. */
  masquerade: 'all' | 'node';
  noEndpoints: NoEndpoints;
  /** loadBalancerSourceRanges with the node-IP exception applied; empty = no restriction. */
  loadBalancerAllowedSources: readonly string[];
}

export interface EntryDecisions {
  internal: InternalEntry;
  external: ExternalEntry | null;
  clusterEndpoints: readonly Endpoint[];
  localEndpoints: readonly Endpoint[];
}

const noEndpoints = (sp: ServicePortState, has: boolean): NoEndpoints => (!sp.hasEndpoints ? 'reject' : has ? null : 'drop');

export function decisionsOf(sp: ServicePortState, primaryIP: string): EntryDecisions {
  const internal: InternalEntry = {
    policy: sp.internalPolicyLocal ? 'Local' : 'Cluster',
    endpoints: sp.internalEndpoints,
    noEndpoints: noEndpoints(sp, sp.internalEndpoints.length > 0),
  };
  let external: ExternalEntry | null = null;
  if (sp.externallyAccessible) {
    let allowed: string[] = [];
    if (sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0) {
      const ranges = sp.loadBalancerSourceRanges.map((r) => parseCIDR(r)).filter((r) => r !== null);
      allowed = ranges.map((r) => r!.cidr);
      if (primaryIP && ranges.some((r) => cidrContains(r!, primaryIP))) allowed.push(...sp.loadBalancerIPs);
      allowed = [...new Set(allowed)];
    }
    external = {
      policy: sp.externalPolicyLocal ? 'Local' : 'Cluster',
      capture: sp.hasEndpoints,
      endpoints: sp.externalEndpoints,
      shortCircuit: sp.externalPolicyLocal,
      masquerade: sp.externalPolicyLocal ? 'node' : 'all',
      noEndpoints: noEndpoints(sp, sp.externalEndpoints.length > 0),
      loadBalancerAllowedSources: allowed,
    };
  }
  return { internal, external, clusterEndpoints: sp.clusterEndpoints ?? [], localEndpoints: sp.localEndpoints ?? [] };
}
