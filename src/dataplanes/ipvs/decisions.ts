// The model's per-entry-point decisions, as this dataplane reads them. Everything about which
// endpoints serve an entry point, what happens when there are none, and which sources are
// allowed is decided by the model; this file only reads it.
import type { Endpoint, ServicePortState } from '../../model/types.js';

export type NoEndpoints = 'reject' | 'drop' | null;

export interface InternalDecision {
  endpoints: readonly Endpoint[];
  noEndpoints: NoEndpoints;
}

export interface ExternalDecision {
  endpoints: readonly Endpoint[];
  /** eTP Local: node-local endpoints only, and the client's source address is kept. */
  policyLocal: boolean;
  masquerade: 'all' | 'node';
  noEndpoints: NoEndpoints;
  /** Empty: no restriction. */
  loadBalancerAllowedSources: readonly string[];
}

interface ModelDecisions {
  internal?: { endpoints: readonly Endpoint[]; noEndpoints: NoEndpoints };
  external?: {
    policy: 'Cluster' | 'Local';
    endpoints: readonly Endpoint[];
    masquerade: 'all' | 'node';
    noEndpoints: NoEndpoints;
    loadBalancerAllowedSources: readonly string[];
  } | null;
}

export function internalDecision(sp: ServicePortState): InternalDecision {
  const m = (sp as ServicePortState & ModelDecisions).internal;
  if (m) return { endpoints: m.endpoints, noEndpoints: m.noEndpoints };
  const endpoints = sp.internalEndpoints;
  return { endpoints, noEndpoints: endpoints.length > 0 ? null : sp.hasEndpoints ? 'drop' : 'reject' };
}

/** null: the service port has no external entry point. */
export function externalDecision(sp: ServicePortState): ExternalDecision | null {
  const m = (sp as ServicePortState & ModelDecisions).external;
  if (m !== undefined) {
    if (m === null) return null;
    return { endpoints: m.endpoints, policyLocal: m.policy === 'Local', masquerade: m.masquerade, noEndpoints: m.noEndpoints, loadBalancerAllowedSources: m.loadBalancerAllowedSources };
  }
  if (!sp.externallyAccessible) return null;
  const endpoints = sp.externalEndpoints;
  return {
    endpoints,
    policyLocal: sp.externalPolicyLocal,
    masquerade: sp.externalPolicyLocal ? 'node' : 'all',
    noEndpoints: endpoints.length > 0 ? null : sp.hasEndpoints ? 'drop' : 'reject',
    loadBalancerAllowedSources: sp.loadBalancerSourceRanges,
  };
}
