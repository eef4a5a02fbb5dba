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
import type { IPFamily } from '../../api/ip.js';
import type { ProxyState, ServicePortState } from '../../model/types.js';
import { familyContext, FAMILIES, type CompileConfig, type FamilyContext } from './context.js';
import { HAIRPIN_SET, MARK_FOR_MASQUERADE, MASQUERADING, markForMasqueradeRules, masqueradingRules } from './masquerade.js';
import { nodePortEndpointsMap, NODEPORT_ENDPOINT_CHAINS, PROTOCOLS, REJECT_CHAIN, serviceEndpointsMap, SERVICE_ENDPOINT_CHAINS } from './maps.js';
import { compileServicePort } from './port.js';
import { renderTable, type ChainDecl, type ElementRef, type NftFamily, type SetDecl, type TableRuleset } from './ruleset.js';

export { familyContext, FAMILIES, type CompileConfig, type FamilyContext } from './context.js';
export { LOCAL_SLOT_OFFSET, nodePortEndpointsMap, pickChain, serviceEndpointsMap } from './maps.js';
export { compileServicePort } from './port.js';

// ---- global objects ---------------------------------------------------------------------

export function globalSets(fc: FamilyContext): SetDecl[] {
  const a = fc.addrType;
  const key3 = `${a} . inet_proto . inet_service`;
  const sets: SetDecl[] = [{ kind: 'set', name: 'cluster-ips', body: `type ${a} ; comment "Active ClusterIPs" ;` }];
  if (fc.nodePortIPs) sets.push({ kind: 'set', name: 'nodeport-ips', body: `type ${a} ; comment "IPs that accept NodePort traffic" ;` });
  sets.push(
    { kind: 'map', name: 'service-ips', body: `type ${key3} : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ;` },
    { kind: 'map', name: 'service-nodeports', body: `type inet_proto . inet_service : verdict ; comment "NodePort traffic" ;` },
    { kind: 'map', name: 'firewall-ips', body: `type ${key3} : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ;` },
    { kind: 'map', name: 'no-endpoint-services', body: `type ${key3} : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ;` },
    { kind: 'map', name: 'no-endpoint-nodeports', body: `type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ;` },
    // One per protocol: with `th dport` in the typeof, nft 1.0.6 refuses to add a rule that
    // uses a map it reads back from the kernel ("conflicting protocols specified: udp vs. th").
    ...PROTOCOLS.flatMap((p): SetDecl[] => [
      {
        kind: 'map',
        name: serviceEndpointsMap(p),
        body: `typeof ${fc.ipx} daddr . ${p} dport . numgen random mod 1 : ${fc.ipx} daddr . ${p} dport ; comment "endpoint by service address, port and slot" ;`,
      },
      { kind: 'map', name: nodePortEndpointsMap(p), body: `typeof ${p} dport . numgen random mod 1 : ${fc.ipx} daddr . ${p} dport ; comment "endpoint by node port and slot" ;` },
    ]),
    {
      kind: 'map',
      name: SERVICE_ENDPOINT_CHAINS,
      // The protocol is part of the key: one map serves every protocol, and a Service's TCP
      // and UDP ports may share a number (DNS: 53/TCP and 53/UDP).
      body: `typeof ${fc.ipx} daddr . meta l4proto . th dport . numgen random mod 1 : verdict ; comment "endpoint chain by service address, protocol, port and slot (ClientIP affinity)" ;`,
    },
    {
      kind: 'map',
      name: NODEPORT_ENDPOINT_CHAINS,
      body: `typeof meta l4proto . th dport . numgen random mod 1 : verdict ; comment "endpoint chain by protocol, node port and slot (ClientIP affinity)" ;`,
    },
    { kind: 'set', name: HAIRPIN_SET, body: `type ${a} . ${a} ; comment "endpoint . endpoint: a pod reaching itself through a Service" ;` },
  );
  return sets;
}

export function globalChains(fc: FamilyContext): ChainDecl[] {
  const ipx = fc.ipx;
  const tuple = `${ipx} daddr . meta l4proto . th dport`;
  const nodePortMatch = fc.nodePortIPs ? `${ipx} daddr @nodeport-ips` : `fib daddr type local ${ipx} daddr != ${ipx === 'ip' ? '127.0.0.0/8' : '::1'}`;
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
  for (const ip of fc.nodePortIPs ?? []) out.push({ set: 'nodeport-ips', key: ip, value: '', owner: '', scope: ip });
  return out;
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
