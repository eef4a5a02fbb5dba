// Structural equality of two ServicePortStates: "did anything a dataplane sees change?".
// Hand-written rather than a generic deep-equal or JSON fingerprint: it runs for every
// recomputed service port on every sync and must cost next to nothing.
import type { Endpoint, ExternalEntry, InternalEntry, NodeInfo, ServicePortState } from './types.js';

const SCALARS = [
  'key',
  'type',
  'clusterIP',
  'port',
  'nodePort',
  'targetPort',
  'healthCheckNodePort',
  'internalTrafficPolicy',
  'externalTrafficPolicy',
  'externallyAccessible',
  'internalPolicyLocal',
  'externalPolicyLocal',
  'hasEndpoints',
] as const satisfies readonly (keyof ServicePortState)[];

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return (
    a.endpoint === b.endpoint &&
    a.isLocal === b.isLocal &&
    a.ready === b.ready &&
    a.serving === b.serving &&
    a.terminating === b.terminating &&
    a.nodeName === b.nodeName &&
    a.zone === b.zone &&
    a.hostname === b.hostname &&
    sameStrings(a.zoneHints, b.zoneHints) &&
    sameStrings(a.nodeHints, b.nodeHints)
  );
}

function sameEndpoints(a: readonly Endpoint[] | null, b: readonly Endpoint[] | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameEndpoint(a[i], b[i])) return false;
  return true;
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

export function sameServicePort(a: ServicePortState, b: ServicePortState): boolean {
  for (const f of SCALARS) if (a[f] !== b[f]) return false;
  return (
    sameStrings(a.externalIPs, b.externalIPs) &&
    sameStrings(a.loadBalancerIPs, b.loadBalancerIPs) &&
    sameStrings(a.loadBalancerSourceRanges, b.loadBalancerSourceRanges) &&
    a.loadBalancerIngress.length === b.loadBalancerIngress.length &&
    a.loadBalancerIngress.every((x, i) => x.ip === b.loadBalancerIngress[i].ip && x.ipMode === b.loadBalancerIngress[i].ipMode) &&
    a.sessionAffinity.type === b.sessionAffinity.type &&
    a.sessionAffinity.timeoutSeconds === b.sessionAffinity.timeoutSeconds &&
    sameRecord(a.annotations, b.annotations) &&
    sameEndpoints(a.endpoints, b.endpoints) &&
    sameEndpoints(a.clusterEndpoints, b.clusterEndpoints) &&
    sameEndpoints(a.localEndpoints, b.localEndpoints) &&
    sameEndpoints(a.allReachableEndpoints, b.allReachableEndpoints) &&
    sameInternal(a.internal, b.internal) &&
    sameExternal(a.external, b.external)
  );
}

// The entries' endpoint lists are the cluster/local lists compared above; their other fields
// follow from the policies, except the allowed sources (they depend on the node's IP).
function sameInternal(a: InternalEntry, b: InternalEntry): boolean {
  return a.policy === b.policy && a.noEndpoints === b.noEndpoints && a.endpoints.length === b.endpoints.length;
}

function sameExternal(a: ExternalEntry | null, b: ExternalEntry | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.policy === b.policy &&
    a.capture === b.capture &&
    a.shortCircuit === b.shortCircuit &&
    a.masquerade === b.masquerade &&
    a.noEndpoints === b.noEndpoints &&
    a.endpoints.length === b.endpoints.length &&
    a.shortCircuitEndpoints.length === b.shortCircuitEndpoints.length &&
    sameStrings(a.loadBalancerAllowedSources, b.loadBalancerAllowedSources)
  );
}

/** Whether two snapshots see the same node (name, labels, addresses, eligibility). */
export function sameNodeInfo(a: NodeInfo, b: NodeInfo): boolean {
  return (
    a.name === b.name &&
    a.zone === b.zone &&
    a.deleting === b.deleting &&
    a.eligible === b.eligible &&
    a.known === b.known &&
    a.primaryIPv4 === b.primaryIPv4 &&
    a.primaryIPv6 === b.primaryIPv6 &&
    sameStrings(a.addresses, b.addresses) &&
    sameStrings(a.podCIDRs, b.podCIDRs) &&
    sameRecord(a.labels, b.labels)
  );
}
