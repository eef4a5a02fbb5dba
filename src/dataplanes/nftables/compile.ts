// The nftables compiler: a pure function of (ProxyState, Config) to kproxy's two tables,
// `ip kproxy` and `ip6 kproxy`, with kube-proxy's nftables behaviour and names, laid out to
// load in about a second at 10,000 Services (see docs/nftables.md):
//
//  - upstream's global maps (service-ips, service-nodeports, firewall-ips,
//    no-endpoint-services, no-endpoint-nodeports) and sets (cluster-ips, nodeport-ips);
//  - upstream's per-service-port chains service-/local-/external-/firewall-<H8>-ns/name/proto/port;
//  - but the endpoint is chosen in a few shared "pick" chains, one per (protocol, endpoint
//    count), through global maps keyed by the packet's own destination and a random slot:
//    `dnat to ip daddr . tcp dport . numgen random mod N map @service-endpoints-tcp` — not an
//    anonymous vmap and N endpoint chains per Service. A rule that names a map costs every
//    later element insert a walk over the map's bindings, so per-Service rules that named a
//    global map would load quadratically; the pick chains keep the bindings few. Only
//    Services with ClientIP affinity get upstream's endpoint-<…> chains and affinity-<…>
//    timeout sets, chosen through the `*-endpoint-chains` verdict maps;
//  - hairpin masquerade in postrouting via the `hairpin` set (endpoint . same endpoint).
//
// Every policy decision (which endpoints, reject or drop) comes from the ProxyState.
import { joinHostPort, parseCIDR, type IPFamily } from '../../api/ip.js';
import { nodePortAddresses } from '../../model/nodeports.js';
import type { Config } from '../../config/types.js';
import type { Endpoint, NodeInfo, ProxyState, ServicePortState } from '../../model/types.js';
import { localDetector, type LocalDetector } from './detector.js';
import { HAIRPIN_SET, MARK_FOR_MASQUERADE, MASQUERADING, markForMasqueradeRules, masqueradingRules } from './masquerade.js';
import { chainNames, endpointBase, serviceBase } from './naming.js';
import { renderTable, type ChainDecl, type ElementRef, type NftFamily, type PortRules, type SetDecl, type TableRuleset } from './ruleset.js';

export type CompileConfig = Pick<
  Config,
  'detectLocalMode' | 'clusterCIDRs' | 'detectLocal' | 'nodePortAddresses' | 'masqueradeAll' | 'masqueradeBit' | 'serviceClusterIPRange'
>;

/** Everything about one family's table that does not depend on a particular service port. */
export interface FamilyContext {
  family: NftFamily;
  ipFamily: IPFamily;
  ipx: 'ip' | 'ip6';
  addrType: 'ipv4_addr' | 'ipv6_addr';
  detector: LocalDetector | null;
  masqueradeAll: boolean;
  masqueradeBit: number;
  primaryIP: string;
  /** null: NodePorts on every local address (fib); else only these. */
  nodePortIPs: string[] | null;
  serviceCIDRs: string[];
  nodeAddresses: ReadonlySet<string>;
}

export const FAMILIES: readonly NftFamily[] = ['ip', 'ip6'];

export function familyContext(family: NftFamily, config: CompileConfig, node: NodeInfo): FamilyContext {
  const ipFamily: IPFamily = family === 'ip' ? 'IPv4' : 'IPv6';
  const primaryIP = ipFamily === 'IPv4' ? node.primaryIPv4 : node.primaryIPv6;
  return {
    family,
    ipFamily,
    ipx: family,
    addrType: family === 'ip' ? 'ipv4_addr' : 'ipv6_addr',
    detector: localDetector(config, node, ipFamily),
    masqueradeAll: config.masqueradeAll,
    masqueradeBit: config.masqueradeBit,
    primaryIP,
    // kube-proxy's nftables mode: NodePorts on the primary IP by default, never on loopback.
    nodePortIPs: nodePortAddresses(config.nodePortAddresses, ipFamily, { candidates: node.addresses, primaryIP, default: 'primary', loopback: false }),
    nodeAddresses: new Set(node.addresses),
    serviceCIDRs: config.serviceClusterIPRange.map((c) => parseCIDR(c)).filter((c) => c?.family === ipFamily).map((c) => c!.cidr),
  };
}

// ---- global objects ---------------------------------------------------------------------

const REJECT_CHAIN = 'reject-chain';
const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
/** DNAT targets by entry address, port and slot, one map per protocol. */
export const serviceEndpointsMap = (proto: string) => `service-endpoints-${proto}`;
/** DNAT targets of NodePort traffic by node port and slot (any node address). */
export const nodePortEndpointsMap = (proto: string) => `nodeport-endpoints-${proto}`;
const SERVICE_ENDPOINT_CHAINS = 'service-endpoint-chains';
const NODEPORT_ENDPOINT_CHAINS = 'nodeport-endpoint-chains';
/**
 * Slots of node-local endpoint sets start here, so that one key space holds both the
 * cluster-wide and the local set of an address (eTP Local needs both for one LB IP).
 */
export const LOCAL_SLOT_OFFSET = 1 << 20;

export function globalSets(fc: FamilyContext): SetDecl[] {
  const a = fc.addrType;
  const key3 = `${a} . inet_proto . inet_service`;
  const sets: SetDecl[] = [
    { kind: 'set', name: 'cluster-ips', body: `type ${a} ; comment "Active ClusterIPs" ;` },
  ];
  if (fc.nodePortIPs) sets.push({ kind: 'set', name: 'nodeport-ips', body: `type ${a} ; comment "IPs that accept NodePort traffic" ;` });
  if (fc.detector?.set) sets.push({ kind: 'set', name: fc.detector.set.name, body: `type ${fc.detector.set.type} ; flags interval ; comment "pod CIDRs (local-traffic detector)" ;` });
  sets.push(
    { kind: 'map', name: 'service-ips', body: `type ${key3} : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ;` },
    { kind: 'map', name: 'service-nodeports', body: `type inet_proto . inet_service : verdict ; comment "NodePort traffic" ;` },
    { kind: 'map', name: 'firewall-ips', body: `type ${key3} : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ;` },
    { kind: 'map', name: 'no-endpoint-services', body: `type ${key3} : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ;` },
    { kind: 'map', name: 'no-endpoint-nodeports', body: `type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ;` },
    // One per protocol: with `th dport` in the typeof, nft 1.0.6 refuses to add a rule that
    // uses a map it reads back from the kernel ("conflicting protocols specified: udp vs. th").
    ...PROTOCOLS.flatMap((p): SetDecl[] => [
      { kind: 'map', name: serviceEndpointsMap(p), body: `typeof ${fc.ipx} daddr . ${p} dport . numgen random mod 1 : ${fc.ipx} daddr . ${p} dport ; comment "endpoint by service address, port and slot" ;` },
      { kind: 'map', name: nodePortEndpointsMap(p), body: `typeof ${p} dport . numgen random mod 1 : ${fc.ipx} daddr . ${p} dport ; comment "endpoint by node port and slot" ;` },
    ]),
    { kind: 'map', name: SERVICE_ENDPOINT_CHAINS, body: `typeof ${fc.ipx} daddr . th dport . numgen random mod 1 : verdict ; comment "endpoint chain by service address, port and slot (ClientIP affinity)" ;` },
    { kind: 'map', name: NODEPORT_ENDPOINT_CHAINS, body: `typeof th dport . numgen random mod 1 : verdict ; comment "endpoint chain by node port and slot (ClientIP affinity)" ;` },
    { kind: 'set', name: HAIRPIN_SET, body: `type ${a} . ${a} ; comment "endpoint . endpoint: a pod reaching itself through a Service" ;` },
  );
  return sets;
}

export function globalChains(fc: FamilyContext): ChainDecl[] {
  const ipx = fc.ipx;
  const tuple = `${ipx} daddr . meta l4proto . th dport`;
  const nodePortMatch = fc.nodePortIPs
    ? `${ipx} daddr @nodeport-ips`
    : `fib daddr type local ${ipx} daddr != ${ipx === 'ip' ? '127.0.0.0/8' : '::1'}`;
  const clusterIPsCheck = [`${ipx} daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`];
  for (const cidr of fc.serviceCIDRs) clusterIPsCheck.push(`${ipx} daddr ${cidr} drop comment "Drop traffic to unallocated ClusterIPs"`);
  return [
    { name: 'filter-prerouting-pre-dnat', hook: 'type filter hook prerouting priority -110 ;', rules: ['ct state new jump firewall-check'] },
    { name: 'filter-output-pre-dnat', hook: 'type filter hook output priority -110 ;', rules: ['ct state new jump firewall-check'] },
    { name: 'filter-forward', hook: 'type filter hook forward priority 0 ;', rules: ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'] },
    { name: 'filter-input', hook: 'type filter hook input priority 0 ;', rules: ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'] },
    { name: 'filter-output', hook: 'type filter hook output priority 0 ;', rules: ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'] },
    { name: 'nat-prerouting', hook: 'type nat hook prerouting priority -100 ;', rules: ['jump services'] },
    { name: 'nat-output', hook: 'type nat hook output priority -100 ;', rules: ['jump services'] },
    { name: 'nat-postrouting', hook: 'type nat hook postrouting priority 100 ;', rules: [`jump ${MASQUERADING}`] },
    { name: 'services', rules: [`${tuple} vmap @service-ips`, `${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`] },
    { name: 'firewall-check', rules: [`${tuple} vmap @firewall-ips`] },
    { name: 'service-endpoints-check', rules: [`${tuple} vmap @no-endpoint-services`] },
    { name: 'nodeport-endpoints-check', rules: [`${nodePortMatch} meta l4proto . th dport vmap @no-endpoint-nodeports`] },
    { name: 'cluster-ips-check', rules: clusterIPsCheck },
    { name: REJECT_CHAIN, rules: ['reject'] },
    { name: MARK_FOR_MASQUERADE, rules: markForMasqueradeRules(fc.masqueradeBit) },
    { name: MASQUERADING, rules: masqueradingRules(fc.masqueradeBit, ipx) },
  ];
}

export function globalElements(fc: FamilyContext): ElementRef[] {
  const out: ElementRef[] = [];
  for (const ip of fc.nodePortIPs ?? []) out.push({ set: 'nodeport-ips', key: ip, value: '', owner: '' });
  for (const cidr of fc.detector?.set?.elements ?? []) out.push({ set: fc.detector!.set!.name, key: cidr, value: '', owner: '' });
  return out;
}

// ---- pick chains ------------------------------------------------------------------------

/**
 * The shared chain that picks one of N endpoints: by the packet's destination address and
 * port (ClusterIP, externalIP, LB IP), else by its destination port alone (NodePort).
 */
export function pickChain(fc: FamilyContext, kind: 'cluster' | 'local', proto: string, n: number, affinity: boolean): ChainDecl {
  const pick = `numgen random mod ${n}` + (kind === 'local' ? ` offset ${LOCAL_SLOT_OFFSET}` : '');
  if (affinity) {
    return {
      name: `pick-${kind}-affinity-${n}`,
      rules: [`${fc.ipx} daddr . th dport . ${pick} vmap @${SERVICE_ENDPOINT_CHAINS}`, `th dport . ${pick} vmap @${NODEPORT_ENDPOINT_CHAINS}`],
    };
  }
  return {
    name: `pick-${kind}-${proto}-${n}`,
    rules: [
      `meta l4proto ${proto} dnat to ${fc.ipx} daddr . ${proto} dport . ${pick} map @${serviceEndpointsMap(proto)}`,
      `meta l4proto ${proto} dnat to ${proto} dport . ${pick} map @${nodePortEndpointsMap(proto)}`,
    ],
  };
}

// ---- one service port -------------------------------------------------------------------

const hostPort = (ep: Pick<Endpoint, 'ip' | 'port'>) => joinHostPort(ep.ip, ep.port);

export function compileServicePort(sp: ServicePortState, fc: FamilyContext): PortRules {
  const names = chainNames(serviceBase(sp));
  const proto = sp.protocol.toLowerCase();
  const ipx = fc.ipx;
  const chains: ChainDecl[] = [];
  const shared: ChainDecl[] = [];
  const sets: SetDecl[] = [];
  const elements: ElementRef[] = [];
  const owner = sp.key;
  const el = (set: string, key: string, value = '') => elements.push({ set, key, value, owner });

  const affinity = sp.sessionAffinity.type === 'ClientIP';
  const usesCluster = sp.clusterEndpoints !== null;
  const usesLocal = sp.localEndpoints !== null;
  const internalChain = sp.internal.policy === 'Local' ? names.local : names.service;
  const ext = sp.external;
  const capture = ext !== null && ext.capture;
  const verdict = (v: 'reject' | 'drop') => (v === 'reject' ? `goto ${REJECT_CHAIN}` : 'drop');

  // ClientIP affinity keeps upstream's shape: one chain and one timeout set per endpoint.
  const endpointChain = new Map<string, { chain: string; set: string }>();
  if (affinity) {
    const timeout = sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.timeoutSeconds : 0;
    for (const ep of sp.allReachableEndpoints) {
      const base = endpointBase(sp, ep);
      const names = { chain: `endpoint-${base}`, set: `affinity-${base}` };
      endpointChain.set(ep.endpoint, names);
      sets.push({ kind: 'set', name: names.set, body: `type ${fc.addrType} ; flags dynamic,timeout ; timeout ${timeout}s ;` });
      chains.push({ name: names.chain, rules: [`update @${names.set} { ${ipx} saddr }`, `meta l4proto ${proto} dnat to ${hostPort(ep)}`] });
    }
  }

  // The addresses (ip . port) and node port whose traffic reaches the cluster-wide and the
  // node-local chain: the pick chains look the endpoint up under exactly these keys.
  // External traffic reaches the cluster chain under eTP Cluster and when short-circuited.
  const externalAddrs = capture ? [...sp.externalIPs, ...sp.loadBalancerIPs] : [];
  const externalNodePort = capture ? sp.nodePort : 0;
  const externalLocal = ext?.policy === 'Local';
  const reach = {
    cluster: { addrs: [...(internalChain === names.service ? [sp.clusterIP] : []), ...externalAddrs], nodePort: externalNodePort },
    local: {
      addrs: [...(internalChain === names.local ? [sp.clusterIP] : []), ...(externalLocal ? externalAddrs : [])],
      nodePort: externalLocal ? externalNodePort : 0,
    },
  };

  const dispatch = (name: string, eps: readonly Endpoint[], kind: 'cluster' | 'local', internal: boolean) => {
    const rules: string[] = [];
    if (internal) {
      if (fc.masqueradeAll) rules.push(`${ipx} daddr ${sp.clusterIP} jump ${MARK_FOR_MASQUERADE}`);
      else if (fc.detector) rules.push(`${ipx} daddr ${sp.clusterIP} ${fc.detector.ifNotLocal} jump ${MARK_FOR_MASQUERADE}`);
    }
    if (affinity) for (const ep of eps) rules.push(`${ipx} saddr @${endpointChain.get(ep.endpoint)!.set} goto ${endpointChain.get(ep.endpoint)!.chain}`);
    if (eps.length === 1) {
      rules.push(affinity ? `goto ${endpointChain.get(eps[0].endpoint)!.chain}` : `meta l4proto ${proto} dnat to ${hostPort(eps[0])}`);
    } else if (eps.length > 1) {
      const pick = pickChain(fc, kind, proto, eps.length, affinity);
      shared.push(pick);
      rules.push(`goto ${pick.name}`);
      const base = kind === 'local' ? LOCAL_SLOT_OFFSET : 0;
      const { addrs, nodePort } = reach[kind];
      eps.forEach((ep, i) => {
        const value = affinity ? `goto ${endpointChain.get(ep.endpoint)!.chain}` : `${ep.ip} . ${ep.port}`;
        for (const addr of addrs) el(affinity ? SERVICE_ENDPOINT_CHAINS : serviceEndpointsMap(proto), `${addr} . ${sp.port} . ${base + i}`, value);
        if (nodePort) el(affinity ? NODEPORT_ENDPOINT_CHAINS : nodePortEndpointsMap(proto), `${nodePort} . ${base + i}`, value);
      });
    }
    // Only an endpoint on this node (or at a node address) can send through this node's
    // nat prerouting/output to its own Service: a remote pod's Service traffic is proxied on
    // its own node. This keeps the hairpin set to the node's pods, not the whole cluster.
    for (const ep of eps) if (ep.isLocal || fc.nodeAddresses.has(ep.ip)) el(HAIRPIN_SET, `${ep.ip} . ${ep.ip}`);
    chains.push({ name, rules });
  };
  if (usesCluster) dispatch(names.service, sp.clusterEndpoints!, 'cluster', internalChain === names.service);
  if (usesLocal) dispatch(names.local, sp.localEndpoints!, 'local', internalChain === names.local);

  if (capture) {
    const rules: string[] = [];
    if (ext.masquerade === 'all') rules.push(`jump ${MARK_FOR_MASQUERADE}`);
    if (ext.shortCircuit) {
      // Pods and the node itself reach every endpoint (short-circuit); only traffic from
      // outside is held to this node's endpoints and keeps its source address.
      if (fc.detector) rules.push(`${fc.detector.ifLocal} goto ${names.service} comment "short-circuit pod traffic"`);
      rules.push(`fib saddr type local jump ${MARK_FOR_MASQUERADE} comment "masquerade local traffic"`);
      rules.push(`fib saddr type local goto ${names.service} comment "short-circuit local traffic"`);
    }
    // With no endpoint for its policy, what is left falls through undNATed and meets the
    // no-endpoint check in the filter hooks (ext.noEndpoints).
    if (ext.endpoints.length > 0) rules.push(`goto ${ext.policy === 'Local' ? names.local : names.service}`);
    chains.push({ name: names.external, rules });
  }

  const tuple = (ip: string, port: number) => `${ip} . ${proto} . ${port}`;
  el('cluster-ips', sp.clusterIP);
  if (sp.internal.noEndpoints === null) el('service-ips', tuple(sp.clusterIP, sp.port), `goto ${internalChain}`);
  else el('no-endpoint-services', tuple(sp.clusterIP, sp.port), verdict(sp.internal.noEndpoints));

  if (ext) {
    for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) {
      if (capture) el('service-ips', tuple(ip, sp.port), `goto ${names.external}`);
      if (ext.noEndpoints) el('no-endpoint-services', tuple(ip, sp.port), verdict(ext.noEndpoints));
    }
    if (sp.nodePort) {
      if (capture) el('service-nodeports', `${proto} . ${sp.nodePort}`, `goto ${names.external}`);
      if (ext.noEndpoints) el('no-endpoint-nodeports', `${proto} . ${sp.nodePort}`, verdict(ext.noEndpoints));
    }

    // loadBalancerSourceRanges: checked before DNAT, for LB IPs only.
    const allowed = ext.loadBalancerAllowedSources;
    if (sp.loadBalancerIPs.length > 0 && allowed.length > 0) {
      const set = allowed.length === 1 ? allowed[0] : `{ ${allowed.join(', ')} }`;
      chains.push({ name: names.firewall, rules: [`${ipx} saddr != ${set} drop`] });
      for (const ip of sp.loadBalancerIPs) el('firewall-ips', tuple(ip, sp.port), `goto ${names.firewall}`);
    }
  }

  return { key: sp.key, chains, shared, sets, elements };
}

// ---- the whole ruleset ------------------------------------------------------------------

/** Service ports of one family, in key order (the order everything is rendered in). */
export function portsOf(state: ProxyState, ipFamily: IPFamily): ServicePortState[] {
  return [...state.servicePorts.values()].filter((sp) => sp.family === ipFamily).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function compileTable(state: ProxyState, config: CompileConfig, family: NftFamily): TableRuleset {
  const fc = familyContext(family, config, state.node);
  return {
    family,
    sets: globalSets(fc),
    chains: globalChains(fc),
    elements: globalElements(fc),
    ports: portsOf(state, fc.ipFamily).map((sp) => compileServicePort(sp, fc)),
  };
}

/** Both tables, IPv4 first. */
export function compile(state: ProxyState, config: CompileConfig): TableRuleset[] {
  return FAMILIES.map((f) => compileTable(state, config, f));
}

/**
 * The nft text of a full sync: each table replaced atomically (`add table; delete table;
 * add table …` in one transaction), IPv4 then IPv6. `kproxy rules` prints exactly this.
 */
export function compileText(state: ProxyState, config: CompileConfig): string {
  const lines: string[] = [];
  for (const t of compile(state, config)) renderTable(t, { replace: true }, lines);
  return lines.join('\n') + '\n';
}
