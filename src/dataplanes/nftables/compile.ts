// The nftables compiler: a pure function of (ProxyState, Config) to kproxy's two tables,
// `ip kproxy` and `ip6 kproxy`, with kube-proxy's nftables behaviour and names, laid out to
// load in about a second at 10,000 Services (see docs/nftables.md):
//
//  - upstream's global maps (service-ips, service-nodeports, firewall-ips,
//    no-endpoint-services, no-endpoint-nodeports) and sets (cluster-ips, nodeport-ips);
//  - upstream's per-service-port chains service-/local-/external-/firewall-<H8>-ns/name/proto/port;
//  - but endpoint choice through one global map keyed by slot (`numgen random mod N offset B
//    map @endpoints-tcp`), not an anonymous vmap and N endpoint chains per Service. Only Services
//    with ClientIP affinity get upstream's endpoint-<…> chains and affinity-<…> timeout sets,
//    reached through the global `endpoint-chains` verdict map;
//  - hairpin masquerade in postrouting via the `hairpin` set (endpoint . same endpoint).
//
// Every policy decision (which endpoints, reject or drop) comes from the ProxyState.
import { cidrContains, joinHostPort, parseCIDR, type IPFamily } from '../../api/ip.js';
import type { Config } from '../../config/types.js';
import type { Endpoint, NodeInfo, ProxyState, ServicePortState } from '../../model/types.js';
import { localDetector, type LocalDetector } from './detector.js';
import { HAIRPIN_SET, MARK_FOR_MASQUERADE, MASQUERADING, markForMasqueradeRules, masqueradingRules } from './masquerade.js';
import { chainNames, endpointBase, serviceBase } from './naming.js';
import { renderTable, type ChainDecl, type ElementRef, type NftFamily, type PortRules, type SetDecl, type TableRuleset } from './ruleset.js';
import { SlotAllocator } from './slots.js';

export type CompileConfig = Pick<
  Config,
  'detectLocalMode' | 'clusterCIDRs' | 'detectLocal' | 'nodePortAddresses' | 'masqueradeAll' | 'masqueradeBit' | 'serviceClusterIPRange' | 'nodeIPOverride'
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
}

export const FAMILIES: readonly NftFamily[] = ['ip', 'ip6'];

export function familyContext(family: NftFamily, config: CompileConfig, node: NodeInfo): FamilyContext {
  const ipFamily: IPFamily = family === 'ip' ? 'IPv4' : 'IPv6';
  const isFamily = (ip: string) => ip.includes(':') === (ipFamily === 'IPv6');
  const primaryIP = config.nodeIPOverride.find(isFamily) ?? node.addresses.find(isFamily) ?? '';
  return {
    family,
    ipFamily,
    ipx: family,
    addrType: family === 'ip' ? 'ipv4_addr' : 'ipv6_addr',
    detector: localDetector(config, node, ipFamily),
    masqueradeAll: config.masqueradeAll,
    masqueradeBit: config.masqueradeBit,
    primaryIP,
    nodePortIPs: nodePortIPs(config.nodePortAddresses, node, ipFamily, primaryIP),
    serviceCIDRs: config.serviceClusterIPRange.map((c) => parseCIDR(c)).filter((c) => c?.family === ipFamily).map((c) => c!.cidr),
  };
}

/**
 * The node addresses that accept NodePorts. nftables mode's default is the primary node IP;
 * CIDRs select the node's addresses inside them ("primary" the primary IP); CIDRs of the other
 * family are ignored; a /0 means every local address. Loopback never accepts NodePorts.
 */
export function nodePortIPs(nodePortAddresses: readonly string[], node: Pick<NodeInfo, 'addresses'>, family: IPFamily, primaryIP: string): string[] | null {
  const ips = new Set<string>();
  let any = false;
  for (const a of nodePortAddresses) {
    if (a === 'primary') {
      any = true;
      if (primaryIP) ips.add(primaryIP);
      continue;
    }
    const cidr = parseCIDR(a);
    if (!cidr || cidr.family !== family) continue;
    any = true;
    if (cidr.prefix === 0) return null;
    for (const addr of node.addresses) if (cidrContains(cidr, addr)) ips.add(addr);
  }
  if (!any && primaryIP) ips.add(primaryIP);
  return [...ips].filter((ip) => !ip.startsWith('127.') && ip !== '::1').sort();
}

// ---- global objects ---------------------------------------------------------------------

const REJECT_CHAIN = 'reject-chain';
const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
/** The slot map of a protocol: `endpoints-tcp`, `endpoints-udp`, `endpoints-sctp`. */
export const endpointsMap = (proto: string) => `endpoints-${proto}`;

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
    ...PROTOCOLS.map((p): SetDecl => ({ kind: 'map', name: endpointsMap(p), body: `typeof numgen random mod 1 : ${fc.ipx} daddr . ${p} dport ; comment "DNAT target of each ${p} endpoint slot" ;` })),
    { kind: 'map', name: 'endpoint-chains', body: `typeof numgen random mod 1 : verdict ; comment "endpoint chain of each slot (ClientIP affinity)" ;` },
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
  for (const ip of fc.nodePortIPs ?? []) out.push({ set: 'nodeport-ips', key: ip, value: '' });
  for (const cidr of fc.detector?.set?.elements ?? []) out.push({ set: fc.detector!.set!.name, key: cidr, value: '' });
  return out;
}

// ---- one service port -------------------------------------------------------------------

const hostPort = (ep: Pick<Endpoint, 'ip' | 'port'>) => joinHostPort(ep.ip, ep.port);

/** Slot-owner names of a service port's endpoint ranges (released when it goes away). */
export const slotOwners = (key: string) => [`${key}#cluster`, `${key}#local`];

export function compileServicePort(sp: ServicePortState, fc: FamilyContext, slots: SlotAllocator): PortRules {
  const names = chainNames(serviceBase(sp));
  const proto = sp.protocol.toLowerCase();
  const ipx = fc.ipx;
  const chains: ChainDecl[] = [];
  const sets: SetDecl[] = [];
  const elements: ElementRef[] = [];
  const el = (set: string, key: string, value = '') => elements.push({ set, key, value });

  const affinity = sp.sessionAffinity.type === 'ClientIP';
  const hasInternal = sp.internalEndpoints.length > 0;
  const hasExternal = sp.externalEndpoints.length > 0;
  const usesCluster = sp.clusterEndpoints !== null;
  const usesLocal = sp.localEndpoints !== null;
  const usesExternal = sp.externallyAccessible && hasExternal;
  const internalChain = sp.internalPolicyLocal ? names.local : names.service;
  // No endpoint anywhere: reject; endpoints exist but none for this policy: drop.
  const rejectOrDrop = (has: boolean) => (!sp.hasEndpoints ? `goto ${REJECT_CHAIN}` : has ? null : 'drop');

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

  const dispatch = (name: string, eps: readonly Endpoint[], owner: string, internal: boolean) => {
    const rules: string[] = [];
    if (internal) {
      if (fc.masqueradeAll) rules.push(`${ipx} daddr ${sp.clusterIP} jump ${MARK_FOR_MASQUERADE}`);
      else if (fc.detector) rules.push(`${ipx} daddr ${sp.clusterIP} ${fc.detector.ifNotLocal} jump ${MARK_FOR_MASQUERADE}`);
    }
    if (affinity) for (const ep of eps) rules.push(`${ipx} saddr @${endpointChain.get(ep.endpoint)!.set} goto ${endpointChain.get(ep.endpoint)!.chain}`);
    if (eps.length === 1) {
      rules.push(affinity ? `goto ${endpointChain.get(eps[0].endpoint)!.chain}` : `meta l4proto ${proto} dnat to ${hostPort(eps[0])}`);
      slots.release(owner);
    } else if (eps.length > 1) {
      const offset = slots.take(owner, eps.length);
      const pick = `numgen random mod ${eps.length} offset ${offset}`;
      rules.push(affinity ? `${pick} vmap @endpoint-chains` : `meta l4proto ${proto} dnat to ${pick} map @${endpointsMap(proto)}`);
      eps.forEach((ep, i) => {
        if (affinity) el('endpoint-chains', String(offset + i), `goto ${endpointChain.get(ep.endpoint)!.chain}`);
        else el(endpointsMap(proto), String(offset + i), `${ep.ip} . ${ep.port}`);
      });
    } else {
      slots.release(owner);
    }
    for (const ep of eps) el(HAIRPIN_SET, `${ep.ip} . ${ep.ip}`);
    chains.push({ name, rules });
  };
  const [clusterOwner, localOwner] = slotOwners(sp.key);
  if (usesCluster) dispatch(names.service, sp.clusterEndpoints!, clusterOwner, internalChain === names.service);
  else slots.release(clusterOwner);
  if (usesLocal) dispatch(names.local, sp.localEndpoints!, localOwner, internalChain === names.local);
  else slots.release(localOwner);

  if (usesExternal) {
    const rules: string[] = [];
    if (!sp.externalPolicyLocal) {
      rules.push(`jump ${MARK_FOR_MASQUERADE}`, `goto ${names.service}`);
    } else {
      // Pods and the node itself reach every endpoint (short-circuit); only traffic from
      // outside is held to this node's endpoints and keeps its source address.
      if (fc.detector && usesCluster) rules.push(`${fc.detector.ifLocal} goto ${names.service} comment "short-circuit pod traffic"`);
      rules.push(`fib saddr type local jump ${MARK_FOR_MASQUERADE} comment "masquerade local traffic"`);
      if (usesCluster) rules.push(`fib saddr type local goto ${names.service} comment "short-circuit local traffic"`);
      rules.push(`goto ${names.local}`);
    }
    chains.push({ name: names.external, rules });
  }

  const tuple = (ip: string, port: number) => `${ip} . ${proto} . ${port}`;
  el('cluster-ips', sp.clusterIP);
  const internalVerdict = rejectOrDrop(hasInternal);
  if (hasInternal) el('service-ips', tuple(sp.clusterIP, sp.port), `goto ${internalChain}`);
  else if (internalVerdict) el('no-endpoint-services', tuple(sp.clusterIP, sp.port), internalVerdict);

  const externalVerdict = rejectOrDrop(hasExternal);
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) {
    if (usesExternal) el('service-ips', tuple(ip, sp.port), `goto ${names.external}`);
    else if (externalVerdict) el('no-endpoint-services', tuple(ip, sp.port), externalVerdict);
  }
  if (sp.nodePort) {
    if (usesExternal) el('service-nodeports', `${proto} . ${sp.nodePort}`, `goto ${names.external}`);
    else if (externalVerdict) el('no-endpoint-nodeports', `${proto} . ${sp.nodePort}`, externalVerdict);
  }

  // loadBalancerSourceRanges: checked before DNAT, for LB IPs only. A range holding the
  // node's own IP also admits the LB IPs as sources (traffic the node hairpins to its LB).
  if (sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0) {
    const ranges = sp.loadBalancerSourceRanges.map((r) => parseCIDR(r)).filter((r) => r !== null);
    const allowed = ranges.map((r) => r!.cidr);
    if (fc.primaryIP && ranges.some((r) => cidrContains(r!, fc.primaryIP))) allowed.push(...sp.loadBalancerIPs);
    const uniq = [...new Set(allowed)];
    const set = uniq.length === 1 ? uniq[0] : `{ ${uniq.join(', ')} }`;
    chains.push({ name: names.firewall, rules: [`${ipx} saddr != ${set} drop`] });
    for (const ip of sp.loadBalancerIPs) el('firewall-ips', tuple(ip, sp.port), `goto ${names.firewall}`);
  }

  return { key: sp.key, chains, sets, elements };
}

// ---- the whole ruleset ------------------------------------------------------------------

/** Service ports of one family, in key order (the order everything is rendered in). */
export function portsOf(state: ProxyState, ipFamily: IPFamily): ServicePortState[] {
  return [...state.servicePorts.values()].filter((sp) => sp.family === ipFamily).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function compileTable(state: ProxyState, config: CompileConfig, family: NftFamily, slots = new SlotAllocator()): TableRuleset {
  const fc = familyContext(family, config, state.node);
  return {
    family,
    sets: globalSets(fc),
    chains: globalChains(fc),
    elements: globalElements(fc),
    ports: portsOf(state, fc.ipFamily).map((sp) => compileServicePort(sp, fc, slots)),
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
