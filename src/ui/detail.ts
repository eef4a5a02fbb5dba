// A service port's detail: every endpoint with its conditions and where the model put it.
// Membership is read from the model's sets (clusterEndpoints, localEndpoints and the sets
// chosen for internal and external traffic); nothing here decides which endpoint is used.
// The "facts" lines only restate the inputs the model looked at (conditions, node, hints).
import type { Config } from '../config/types.js';
import type { Endpoint, ProxyState, ServicePortState } from '../model/types.js';
import { recordLines } from './records.js';
import { serviceRow, type ServiceRow } from './rows.js';
import { rulesFor, type RulesView } from './rules.js';

/** true: in the set; false: not in it; null: the model does not use this set for this port. */
export type Membership = boolean | null;

export interface EndpointView {
  endpoint: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName: string;
  isLocal: boolean;
  zone: string;
  zoneHints: readonly string[];
  nodeHints: readonly string[];
  hostname: string;
  sets: { cluster: Membership; local: Membership; internal: Membership; external: Membership; shortCircuit: Membership };
  facts: string[];
}

export interface TrafficView {
  /** "ClusterIP traffic", "external traffic …" */
  what: string;
  policy: string;
  /** Which of the model's sets serves it. */
  set: 'cluster' | 'local';
  endpoints: number;
  /** The model's decisions for this entry point, in words. */
  decisions: string[];
}

export interface ServiceDetail {
  row: ServiceRow;
  node: { name: string; zone: string };
  traffic: TrafficView[];
  endpoints: EndpointView[];
  rules: RulesView;
  dns: string[];
}

const has = (set: readonly Endpoint[] | null, e: Endpoint): Membership => (set === null ? null : set.includes(e));

function facts(e: Endpoint, node: { name: string; zone: string }): string[] {
  const out: string[] = [];
  out.push(e.ready ? 'ready' : e.serving ? 'not ready, still serving' : 'not ready, not serving');
  if (e.terminating) out.push('terminating');
  out.push(e.isLocal ? `on this node (${node.name})` : `on node ${e.nodeName || '(none named)'}`);
  if (e.zoneHints.length) out.push(`zone hints: ${e.zoneHints.join(', ')} (this node's zone: ${node.zone || 'none'})`);
  if (e.nodeHints.length) out.push(`node hints: ${e.nodeHints.join(', ')}`);
  return out;
}

const noEndpointsText = (v: 'reject' | 'drop' | null) =>
  v === null
    ? 'served by these endpoints'
    : v === 'reject'
      ? 'no endpoints: rejected (the Service has no usable endpoint anywhere)'
      : 'no endpoints for this policy: dropped (endpoints exist elsewhere)';

/** The model's per-entry-point decisions (ServicePortState.internal and .external), in words. */
function trafficViews(sp: ServicePortState): TrafficView[] {
  const out: TrafficView[] = [
    {
      what: 'ClusterIP traffic',
      policy: `internalTrafficPolicy ${sp.internal.policy}`,
      set: sp.internal.policy === 'Local' ? 'local' : 'cluster',
      endpoints: sp.internal.endpoints.length,
      decisions: [noEndpointsText(sp.internal.noEndpoints)],
    },
  ];
  const x = sp.external;
  if (x) {
    const decisions = [noEndpointsText(x.noEndpoints)];
    decisions.push(x.capture ? 'external addresses captured (a usable endpoint exists)' : 'external addresses not captured (no usable endpoint anywhere)');
    if (x.shortCircuit) decisions.push(`from this node's Pods and the node itself: short-circuited to the cluster-wide set (${x.shortCircuitEndpoints.length})`);
    decisions.push(x.masquerade === 'all' ? 'masqueraded: always' : "masqueraded: only traffic from the node (others keep the client's address)");
    if (x.loadBalancerAllowedSources.length) decisions.push(`LoadBalancer IPs only from: ${x.loadBalancerAllowedSources.join(', ')}`);
    out.push({
      what: 'external traffic (NodePort, externalIPs, LoadBalancer IPs) from outside the node',
      policy: `externalTrafficPolicy ${x.policy}`,
      set: x.policy === 'Local' ? 'local' : 'cluster',
      endpoints: x.endpoints.length,
      decisions,
    });
  }
  return out;
}

export async function serviceDetail(state: ProxyState, sp: ServicePortState, config: Config): Promise<ServiceDetail> {
  const node = { name: state.node.name, zone: state.node.zone };
  const x = sp.external;
  const endpoints = sp.endpoints.map((e): EndpointView => ({
    endpoint: e.endpoint,
    ready: e.ready,
    serving: e.serving,
    terminating: e.terminating,
    nodeName: e.nodeName,
    isLocal: e.isLocal,
    zone: e.zone,
    zoneHints: e.zoneHints,
    nodeHints: e.nodeHints,
    hostname: e.hostname,
    sets: {
      cluster: has(sp.clusterEndpoints, e),
      local: has(sp.localEndpoints, e),
      internal: sp.internal.endpoints.includes(e),
      external: x ? x.endpoints.includes(e) : null,
      shortCircuit: x?.shortCircuit ? x.shortCircuitEndpoints.includes(e) : null,
    },
    facts: facts(e, node),
  }));
  return {
    row: serviceRow(sp, config.clusterDomain),
    node,
    traffic: trafficViews(sp),
    endpoints,
    rules: await rulesFor(state, sp, config),
    dns: recordLines(state, sp.namespace, sp.name, config.clusterDomain, config.dnsTTL),
  };
}
