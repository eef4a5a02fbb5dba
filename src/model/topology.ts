// Endpoint selection for one service port on this node, with kube-proxy's semantics:
//  - Cluster-policy traffic uses ready endpoints (filtered by topology hints when usable),
//    falling back to serving+terminating endpoints only when none is ready anywhere.
//  - Local-policy traffic uses this node's ready endpoints, falling back to this node's
//    serving+terminating ones. Endpoints that are not serving are never used.
//  - Topology hints are all-or-nothing: every ready endpoint must carry them, the node must
//    have a zone (or, for PreferSameNode, be named in a node hint) and at least one ready
//    endpoint must be hinted for it. Local-policy traffic ignores hints.
import type { Endpoint } from './types.js';

export interface CategorizeInput {
  usesClusterEndpoints: boolean;
  usesLocalEndpoints: boolean;
  nodeName: string;
  zone: string;
  /** Feature gate PreferSameTrafficDistribution: honour node hints. */
  preferSameNode: boolean;
}

export interface Categorized {
  clusterEndpoints: Endpoint[] | null;
  localEndpoints: Endpoint[] | null;
  allReachableEndpoints: Endpoint[];
  hasAnyEndpoints: boolean;
}

type TopologyMode = '' | 'PreferSameZone' | 'PreferSameNode';

function topologyMode(endpoints: readonly Endpoint[], input: CategorizeInput): TopologyMode {
  let allNodeHints = true;
  let hintedForNode = false;
  let allZoneHints = true;
  let hintedForZone = false;
  for (const ep of endpoints) {
    if (!ep.ready) continue;
    if (ep.nodeHints.length === 0) allNodeHints = false;
    else if (ep.nodeHints.includes(input.nodeName)) hintedForNode = true;
    if (ep.zoneHints.length === 0) allZoneHints = false;
    else if (ep.zoneHints.includes(input.zone)) hintedForZone = true;
  }
  if (input.preferSameNode && allNodeHints && hintedForNode) return 'PreferSameNode';
  if (allZoneHints && input.zone !== '' && hintedForZone) return 'PreferSameZone';
  return '';
}

function availableForTopology(ep: Endpoint, mode: TopologyMode, input: CategorizeInput): boolean {
  if (mode === 'PreferSameNode') return ep.nodeHints.includes(input.nodeName);
  if (mode === 'PreferSameZone') return ep.zoneHints.includes(input.zone);
  return true;
}

const servingTerminating = (ep: Endpoint) => ep.serving && ep.terminating;

export function categorizeEndpoints(endpoints: readonly Endpoint[], input: CategorizeInput): Categorized {
  let clusterEndpoints: Endpoint[] | null = null;
  let localEndpoints: Endpoint[] | null = null;
  let hasAnyEndpoints = false;
  let mode: TopologyMode = '';

  if (input.usesClusterEndpoints) {
    mode = topologyMode(endpoints, input);
    clusterEndpoints = endpoints.filter((ep) => ep.ready && availableForTopology(ep, mode, input));
    // None ready (topology was already ignored if it left none): fall back to terminating.
    if (clusterEndpoints.length === 0) clusterEndpoints = endpoints.filter(servingTerminating);
    // Every endpoint kept (the usual case): share the list rather than hold a copy of it.
    if (clusterEndpoints.length === endpoints.length) clusterEndpoints = endpoints as Endpoint[];
    hasAnyEndpoints = clusterEndpoints.length > 0;
  }
  if (!input.usesLocalEndpoints) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints ?? [], hasAnyEndpoints };
  }

  let localReady = false;
  let localServingTerminating = false;
  for (const ep of endpoints) {
    if (ep.ready) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localReady = true;
    } else if (servingTerminating(ep)) {
      hasAnyEndpoints = true;
      if (ep.isLocal) localServingTerminating = true;
    }
  }
  const usedTerminating = !localReady && localServingTerminating;
  if (localReady) localEndpoints = endpoints.filter((ep) => ep.isLocal && ep.ready);
  else if (localServingTerminating) localEndpoints = endpoints.filter((ep) => ep.isLocal && servingTerminating(ep));
  else localEndpoints = [];

  if (clusterEndpoints === null) {
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: localEndpoints, hasAnyEndpoints };
  }
  if (mode === '' && !usedTerminating) {
    // clusterEndpoints holds every ready endpoint, a superset of the (ready) local ones.
    return { clusterEndpoints, localEndpoints, allReachableEndpoints: clusterEndpoints, hasAnyEndpoints };
  }
  const union = new Map<string, Endpoint>();
  for (const ep of clusterEndpoints) union.set(ep.endpoint, ep);
  for (const ep of localEndpoints) union.set(ep.endpoint, ep);
  return { clusterEndpoints, localEndpoints, allReachableEndpoints: [...union.values()], hasAnyEndpoints };
}
