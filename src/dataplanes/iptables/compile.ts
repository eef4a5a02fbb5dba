// The iptables compiler: a pure function of (ProxyState, Config) to the input of
// `iptables-restore --noflush` (IPv4) and `ip6tables-restore --noflush` (IPv6), with kube-proxy's
// chains, names and rule shapes (its iptables mode, ~v1.30):
//
//   nat    KUBE-SERVICES → KUBE-SVC-/KUBE-SVL- (ClusterIP), KUBE-EXT- (externalIPs, LB IPs,
//          via KUBE-FW- with loadBalancerSourceRanges), last rule → KUBE-NODEPORTS → KUBE-EXT-;
//          KUBE-SVC-/KUBE-SVL- pick an endpoint with `-m statistic --probability 1/(n-i)`,
//          ClientIP affinity with `-m recent`; KUBE-SEP- masquerades hairpin traffic and DNATs;
//          KUBE-MARK-MASQ sets the mark, KUBE-POSTROUTING masquerades marked packets.
//   filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES REJECT (no endpoints) or DROP (none for the
//          policy); KUBE-NODEPORTS accepts health-check node ports; KUBE-PROXY-FIREWALL drops
//          LB traffic KUBE-FW- did not accept; KUBE-FORWARD; KUBE-FIREWALL (localhost NodePorts).
//
// Each service port compiles on its own (PortRules) so that a partial sync can rewrite only the
// chains of the ports that changed; the top-level chains are rebuilt from the cached pieces.
// Every policy decision comes from the model (decisions.ts).
import { isLoopback, type IPFamily } from '../../api/ip.js';
import { nodePortAddresses } from '../../model/nodeports.js';
import type { Config } from '../../config/types.js';
import type { Endpoint, NodeInfo, ProxyState, ServicePortState } from '../../model/types.js';
import { decisionsOf } from './decisions.js';
import { localDetector, type LocalDetector } from './detector.js';
import { portChainNames, type ChainNames, type PortChainNames } from './naming.js';
import { LOCALHOST_NODEPORTS_ACCEPTED, NFACCT_COUNTERS } from './nfacct.js';
import { ByteText } from '../../util/byte-text.js';
import { drain } from '../../util/steps.js';

export type CompileConfig = Pick<
  Config,
  'detectLocalMode' | 'clusterCIDRs' | 'detectLocal' | 'nodePortAddresses' | 'masqueradeAll' | 'masqueradeBit' | 'nodeIPOverride' | 'localhostNodePorts' | 'conntrack'
>;

export const FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

/** Above this many endpoints kube-proxy drops per-endpoint comments ("large cluster mode"). */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

/** Everything about one family's rules that does not depend on a particular service port. */
export interface FamilyContext {
  family: IPFamily;
  detector: LocalDetector | null;
  masqueradeAll: boolean;
  mark: string;
  primaryIP: string;
  /** null: NodePorts on every local address (addrtype LOCAL); else only these addresses. */
  nodePortIPs: string[] | null;
  /** IPv4 only: NodePorts also on 127.0.0.1 (needs route_localnet). */
  localhostNodePorts: boolean;
  /** IPv4 with localhostNodePorts on: kubelet's KUBE-FIREWALL localnet guard, as kube-proxy writes it. */
  kubeletFirewall: boolean;
  largeClusterMode: boolean;
  tcpBeLiberal: boolean;
  /** The nfacct counters that exist on the node (nfacct.ts): only these are named in rules. */
  nfacct: ReadonlySet<string>;
  /** Where chain names come from when not hashed afresh (the applier's cache, naming.ts). */
  names?: ChainNames;
}

/** Both of kube-proxy's nfacct counters: what the rules name on a node where nfacct works. */
export const ALL_NFACCT: ReadonlySet<string> = new Set(NFACCT_COUNTERS);

/**
 * `names` is set here, in the one object literal, rather than added to a copy by the caller:
 * `{ ...familyContext(…), names }` made an object of a new hidden class on every sync, and V8
 * threw away its optimised code for the whole port compile each time it met one (a full sync
 * at 1,000 Services paid for its recompilation again and again).
 */
export function familyContext(family: IPFamily, config: CompileConfig, state: Pick<ProxyState, 'node' | 'servicePorts'>, nfacct: ReadonlySet<string> = ALL_NFACCT, names?: ChainNames): FamilyContext {
  const isFamily = (ip: string) => ip.includes(':') === (family === 'IPv6');
  const node = state.node;
  const primaryIP = config.nodeIPOverride.find(isFamily) ?? node.addresses.find(isFamily) ?? '';
  let endpoints = 0;
  for (const sp of state.servicePorts.values()) if (sp.family === family) endpoints += sp.endpoints.length;
  const nodePortIPs = nodePortAddressesOf(config.nodePortAddresses, node, family);
  return {
    family,
    detector: localDetector(config, node, family),
    masqueradeAll: config.masqueradeAll,
    mark: masqueradeMark(config.masqueradeBit),
    primaryIP,
    nodePortIPs,
    localhostNodePorts: localhostNodePortsOn(config, node, family),
    kubeletFirewall: family === 'IPv4' && config.localhostNodePorts,
    largeClusterMode: endpoints > LARGE_CLUSTER_ENDPOINTS,
    tcpBeLiberal: config.conntrack.tcpBeLiberal,
    nfacct,
    names,
  };
}

export function masqueradeMark(bit: number): string {
  return '0x' + (2 ** bit).toString(16);
}

/**
 * The addresses that accept NodePorts (the model's resolver with iptables mode's default:
 * every local address). Loopback stays in the list when a CIDR holds it; whether it is used
 * depends on localhostNodePorts (see restore.ts), as kube-proxy decides it per address.
 */
export function nodePortAddressesOf(spec: readonly string[], node: Pick<NodeInfo, 'addresses'>, family: IPFamily): string[] | null {
  const primaryIP = node.addresses.find((ip) => ip.includes(':') === (family === 'IPv6')) ?? '';
  const candidates = [...node.addresses, family === 'IPv4' ? '127.0.0.1' : '::1'];
  return nodePortAddresses(spec, family, { candidates, primaryIP, default: 'all', loopback: true });
}

/** Localhost NodePorts: IPv4 only, when enabled and loopback is among the NodePort addresses. */
export function localhostNodePortsOn(config: Pick<Config, 'localhostNodePorts' | 'nodePortAddresses'>, node: Pick<NodeInfo, 'addresses'>, family: IPFamily): boolean {
  if (family !== 'IPv4' || !config.localhostNodePorts) return false;
  const ips = nodePortAddressesOf(config.nodePortAddresses, node, family);
  return ips === null || ips.some((ip) => isLoopback(ip));
}

// ---- one service port -------------------------------------------------------------------

/** What one service port contributes to each chain. */
export interface PortRules {
  key: string;
  /** Its own nat chains (KUBE-SVC/SVL/EXT/FW/SEP), in creation order. */
  chains: string[];
  /**
   * The rules of those chains ("-A CHAIN …"). Empty when they were written straight into a
   * full sync's text instead (compileStreamed): a full sync's 30 rules per Service would
   * otherwise live as strings until the next sync replaces them.
   */
  rules: readonly string[];
  /** How many rules those chains have (kubeproxy_sync_proxy_rules_iptables_total). */
  ruleCount: number;
  nat: { services: string[]; nodePorts: string[] };
  filter: { services: string[]; externalServices: string[]; nodePorts: string[]; firewall: string[] };
}

/** Where a full sync's port rules are written (src/util/byte-text.ts): pieces of a line, and line ends. */
export interface LineSink {
  add(piece: string): void;
  end(piece: string): void;
}

const q = (s: string) => `"${s}"`;
const comment = (s: string) => `-m comment --comment ${s.includes(' ') ? q(s) : s}`;

/**
 * One service port's rules. With `sink`, the rules of its own chains are written there (one
 * line each) and not kept; without, they are kept in `rules`.
 */
export function compileServicePort(sp: ServicePortState, fc: FamilyContext, sink?: LineSink): PortRules {
  const d = decisionsOf(sp);
  // Each endpoint's chain name is a hash: computed once, though the name appears in up to
  // three chains (and kept across syncs by the applier's cache).
  const portNames = fc.names?.port(sp) ?? portChainNames(sp);
  const names = portNames.chains;
  const proto = sp.protocol.toLowerCase();
  const spn = sp.servicePortName;
  const kept: string[] = sink ? NO_RULES : [];
  const out: PortRules = { key: sp.key, chains: [], rules: kept, ruleCount: 0, nat: { services: [], nodePorts: [] }, filter: { services: [], externalServices: [], nodePorts: [], firewall: [] } };
  const svcComment = (s: string) => (fc.largeClusterMode ? '' : ' ' + comment(s));
  const match = (ip: string, port: number) => `-m ${proto} -p ${proto} -d ${ip} --dport ${port}`;

  const hasEndpoints = sp.hasEndpoints;
  const ext = d.external;
  const usesCluster = d.clusterEndpoints.length > 0;
  const usesLocal = d.localEndpoints.length > 0;
  const internalChain = d.internal.policy === 'Local' ? names.svl : names.svc;
  const externalPolicyChain = ext?.policy === 'Local' ? names.svl : names.svc;
  const usesExt = ext !== null && ext.capture;
  const lbIPs = sp.loadBalancerIPs;
  const usesFW = usesExt && lbIPs.length > 0 && ext!.loadBalancerAllowedSources.length > 0;
  const lbChain = usesFW ? names.fw : names.ext;
  const filterVerdict = (v: 'reject' | 'drop') => (v === 'reject' ? `${comment(`${spn} has no endpoints`)}` : `${comment(`${spn} has no local endpoints`)}`);
  const filterTarget = (v: 'reject' | 'drop') => (v === 'reject' ? 'REJECT' : 'DROP');

  // ClusterIP
  if (d.internal.noEndpoints === null) {
    out.nat.services.push(`-A KUBE-SERVICES ${comment(`${spn} cluster IP`)} ${match(sp.clusterIP, sp.port)} -j ${internalChain}`);
  } else {
    const v = d.internal.noEndpoints;
    out.filter.services.push(`-A KUBE-SERVICES ${filterVerdict(v)} ${match(sp.clusterIP, sp.port)} -j ${filterTarget(v)}`);
  }
  // externalIPs, LB IPs, NodePort
  if (ext) {
    for (const ip of sp.externalIPs) {
      if (usesExt) out.nat.services.push(`-A KUBE-SERVICES ${comment(`${spn} external IP`)} ${match(ip, sp.port)} -j ${names.ext}`);
      if (ext.noEndpoints) out.filter.externalServices.push(`-A KUBE-EXTERNAL-SERVICES ${filterVerdict(ext.noEndpoints)} ${match(ip, sp.port)} -j ${filterTarget(ext.noEndpoints)}`);
    }
    for (const ip of lbIPs) {
      if (usesExt) out.nat.services.push(`-A KUBE-SERVICES ${comment(`${spn} loadbalancer IP`)} ${match(ip, sp.port)} -j ${lbChain}`);
      if (usesFW) out.filter.firewall.push(`-A KUBE-PROXY-FIREWALL ${comment(`${spn} traffic not accepted by ${names.fw}`)} ${match(ip, sp.port)} -j DROP`);
    }
    if (ext.noEndpoints) {
      for (const ip of lbIPs) out.filter.externalServices.push(`-A KUBE-EXTERNAL-SERVICES ${filterVerdict(ext.noEndpoints)} ${match(ip, sp.port)} -j ${filterTarget(ext.noEndpoints)}`);
    }
    if (sp.nodePort) {
      if (usesExt) {
        // kube-proxy counts the packets that reach a NodePort on 127.0.0.0/8 (how many rely on
        // localhost NodePorts) with a copy of the jump, first, that only such packets match.
        if (fc.localhostNodePorts && fc.nfacct.has(LOCALHOST_NODEPORTS_ACCEPTED)) {
          out.nat.nodePorts.push(
            `-A KUBE-NODEPORTS ${comment(spn)} -m ${proto} -p ${proto} -d 127.0.0.0/8 --dport ${sp.nodePort} -m nfacct --nfacct-name ${LOCALHOST_NODEPORTS_ACCEPTED} -j ${names.ext}`,
          );
        }
        out.nat.nodePorts.push(`-A KUBE-NODEPORTS ${comment(spn)} -m ${proto} -p ${proto} --dport ${sp.nodePort} -j ${names.ext}`);
      }
      if (ext.noEndpoints) {
        out.filter.externalServices.push(
          `-A KUBE-EXTERNAL-SERVICES ${filterVerdict(ext.noEndpoints)} -m addrtype --dst-type LOCAL -m ${proto} -p ${proto} --dport ${sp.nodePort} -j ${filterTarget(ext.noEndpoints)}`,
        );
      }
    }
  }
  if (sp.healthCheckNodePort) {
    out.filter.nodePorts.push(`-A KUBE-NODEPORTS ${comment(`${spn} health check node port`)} -m tcp -p tcp --dport ${sp.healthCheckNodePort} -j ACCEPT`);
  }
  if (!hasEndpoints) return out; // no nat chains at all, only the filter rules above

  const chain = (name: string) => out.chains.push(name);
  // Rules go to the full sync's text, or are kept as strings (partial syncs): one way of
  // writing them either way. The endpoint rules (30 of a Service's 31 with 10 endpoints) are
  // written in pieces, most of which exist already: no string per rule, no array per rule.
  const w: LineSink = sink ?? keptLines(kept);
  const rule = (r: string) => {
    w.end(r);
    out.ruleCount++;
  };

  // Internal traffic masquerade (first rule of the internal chain).
  if (d.internal.noEndpoints === null) {
    const args = `${comment(`${spn} cluster IP`)} ${match(sp.clusterIP, sp.port)}`;
    if (fc.masqueradeAll) rule(`-A ${internalChain} ${args} -j KUBE-MARK-MASQ`);
    else if (fc.detector) rule(`-A ${internalChain} ${args} ${fc.detector.ifNotLocal} -j KUBE-MARK-MASQ`);
  }

  if (usesExt) {
    chain(names.ext);
    if (ext!.masquerade === 'all') {
      rule(`-A ${names.ext} ${comment(`masquerade traffic for ${spn} external destinations`)} -j KUBE-MARK-MASQ`);
    }
    if (ext!.shortCircuit) {
      if (fc.detector && usesCluster) rule(`-A ${names.ext} ${comment(`pod traffic for ${spn} external destinations`)} ${fc.detector.ifLocal} -j ${names.svc}`);
      rule(`-A ${names.ext} ${comment(`masquerade LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
      if (usesCluster) rule(`-A ${names.ext} ${comment(`route LOCAL traffic for ${spn} external destinations`)} -m addrtype --src-type LOCAL -j ${names.svc}`);
    }
    if (ext!.endpoints.length > 0) rule(`-A ${names.ext} -j ${externalPolicyChain}`);
  }

  if (usesFW) {
    chain(names.fw);
    const args = `-A ${names.fw} ${comment(`${spn} loadbalancer IP`)}`;
    for (const src of ext!.loadBalancerAllowedSources) rule(`${args} -s ${src} -j ${names.ext}`);
    rule(`-A ${names.fw} ${comment(`other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL`)}`);
  }

  const affinity = sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.timeoutSeconds : 0;
  if (usesCluster) endpointJumps(w, out, names.svc, d.clusterEndpoints, portNames, spn, fc.largeClusterMode, affinity);
  if (usesLocal) endpointJumps(w, out, names.svl, d.localEndpoints, portNames, spn, fc.largeClusterMode, affinity);
  endpointChains(w, out, sp.allReachableEndpoints, portNames, svcComment(spn), ` -m ${proto} -p ${proto} -j DNAT --to-destination `, affinity);
  return out;
}

// The endpoint rules (30 of a Service's 31 with 10 endpoints) are written by these two, out of
// compileServicePort: small functions that V8 optimises once, where as closures inside it they
// were compiled again with it (and it is large).

/** The jumps of a KUBE-SVC-/KUBE-SVL- chain to its endpoints' chains (with ClientIP affinity, their `recent` checks first). */
function endpointJumps(w: LineSink, out: PortRules, chain: string, eps: readonly Endpoint[], names: PortChainNames, spn: string, largeClusterMode: boolean, affinity: number): void {
  out.chains.push(chain);
  if (affinity) {
    for (const ep of eps) {
      const sep = names.endpoint(ep);
      w.end(`-A ${chain}${largeClusterMode ? '' : ' ' + comment(`${spn} -> ${ep.endpoint}`)} -m recent --name ${sep} --rcheck --seconds ${affinity} --reap -j ${sep}`);
      out.ruleCount++;
    }
  }
  // Written in pieces, most of which exist already: no string per rule.
  const head = `-A ${chain}`;
  const to = largeClusterMode ? '' : ` -m comment --comment "${spn} -> `;
  for (let i = 0; i < eps.length; i++) {
    const ep = eps[i];
    w.add(head);
    if (!largeClusterMode) {
      w.add(to);
      w.add(ep.endpoint);
      w.add('"');
    }
    if (i < eps.length - 1) w.add(statistic(eps.length - i));
    w.add(' -j ');
    w.end(names.endpoint(ep));
    out.ruleCount++;
  }
}

/** Each endpoint's KUBE-SEP- chain: the hairpin masquerade, then the DNAT. */
function endpointChains(w: LineSink, out: PortRules, eps: readonly Endpoint[], names: PortChainNames, sepComment: string, dnat: string, affinity: number): void {
  for (const ep of eps) {
    const sep = names.endpoint(ep);
    out.chains.push(sep);
    w.add('-A ');
    w.add(sep);
    w.add(sepComment);
    w.add(' -s ');
    w.add(ep.ip);
    w.end(' -j KUBE-MARK-MASQ');
    w.add('-A ');
    w.add(sep);
    w.add(sepComment);
    if (affinity) {
      w.add(' -m recent --name ');
      w.add(sep);
      w.add(' --set');
    }
    w.add(dnat);
    w.end(ep.endpoint);
    out.ruleCount += 2;
  }
}

/** A LineSink that keeps each line as one flat string (a partial sync's ports keep their rules). */
function keptLines(kept: string[]): LineSink {
  const line: string[] = [];
  return {
    add(piece) {
      line.push(piece);
    },
    end(piece) {
      line.push(piece);
      kept.push(line.join(''));
      line.length = 0;
    },
  };
}

/** The i-th of n endpoints is taken with probability 1/(n-i), printed as kube-proxy does. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

const statistics: string[] = [];
/** The statistic match of the endpoint taken with probability 1/n (the strings are kept). */
function statistic(n: number): string {
  if (n >= 1024) return ` -m statistic --mode random --probability ${probability(n)}`;
  return (statistics[n] ??= ` -m statistic --mode random --probability ${probability(n)}`);
}

// ---- the whole ruleset ------------------------------------------------------------------

/** Service ports of one family, in key order (the order everything is rendered in). */
export function portsOf(state: Pick<ProxyState, 'servicePorts'>, family: IPFamily): ServicePortState[] {
  return [...state.servicePorts.values()].filter((sp) => sp.family === family).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const NO_RULES: string[] = Object.freeze([]) as unknown as string[];

export interface FamilyRuleset {
  fc: FamilyContext;
  ports: PortRules[];
  /**
   * The rules of every port's own chains, already rendered in port order (compileStreamed) as
   * bytes: a full sync's input takes them as they are. Absent: each port's `rules` are used.
   */
  body?: { parts: readonly Uint8Array[]; lines: number };
}

/**
 * A full sync's compile: each port's own rules go straight into one text, in port order, and
 * are not kept (what renderFamily would make of `compileFamily`, byte for byte).
 * `sizeHint`: the bytes expected (the last full sync's), so that the text fits one buffer.
 */
export function compileStreamed(ports: readonly ServicePortState[], fc: FamilyContext, sizeHint?: number): FamilyRuleset {
  return drain(compileSteps(ports, fc, Infinity, sizeHint));
}

/**
 * compileStreamed as steps (src/util/steps.ts): a step ends after every `slice` ports, where
 * the /rules page may pause; the ruleset is the generator's result.
 */
export function* compileSteps(ports: readonly ServicePortState[], fc: FamilyContext, slice: number, sizeHint?: number): Generator<void, FamilyRuleset> {
  const sink = new ByteText({ sizeHint: sizeHint ?? estimatedBodyBytes(ports) });
  const compiled: PortRules[] = [];
  for (const sp of ports) {
    compiled.push(compileServicePort(sp, fc, sink));
    if (compiled.length % slice === 0) yield;
  }
  const lines = sink.lines;
  return { fc, ports: compiled, body: { parts: sink.take(), lines } };
}

/**
 * Somewhat more than the ~300 bytes an endpoint's rules take: a buffer's pages that are never
 * written cost nothing, a second buffer costs a segment more.
 */
function estimatedBodyBytes(ports: readonly ServicePortState[]): number {
  let n = 0;
  for (const sp of ports) n += 500 + 400 * sp.allReachableEndpoints.length;
  return n;
}

/** Every port of one family, each keeping its rules (partial syncs, tests); see compileStreamed. */
export function compileFamily(state: ProxyState, config: CompileConfig, family: IPFamily, nfacct: ReadonlySet<string> = ALL_NFACCT): FamilyRuleset {
  const fc = familyContext(family, config, state, nfacct);
  return { fc, ports: portsOf(state, family).map((sp) => compileServicePort(sp, fc)) };
}
