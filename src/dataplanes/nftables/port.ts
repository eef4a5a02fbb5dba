// One service port's part of the nftables ruleset: the chains, sets and map elements that
// translate the model's decisions for its entry points (ClusterIP; NodePort, externalIPs, LB
// IPs), built in small steps by PortCompiler.
import { joinHostPort } from '../../api/ip.js';
import type { Endpoint, ServicePortState } from '../../model/types.js';
import type { FamilyContext } from './context.js';
import { HAIRPIN_SET, MARK_FOR_MASQUERADE } from './masquerade.js';
import { gotoRule, LOCAL_SLOT_OFFSET, NODEPORT_ENDPOINT_CHAINS, nodePortEndpointsMap, pickChain, REJECT_CHAIN, SERVICE_ENDPOINT_CHAINS, serviceEndpointsMap } from './maps.js';
import { cat } from './flat.js';
import { ChainNames, endpointBase } from './naming.js';
import type { ChainDecl, ElementRef, PortRules, SetDecl } from './ruleset.js';

const hostPort = (ep: Pick<Endpoint, 'ip' | 'port'>) => joinHostPort(ep.ip, ep.port);
/** The scope of a node port's elements (no address is written this way). */
const nodePortScope = (nodePort: number) => `:${nodePort}`;

const NO_ADDRS: readonly string[] = [];
const GOTO_REJECT = cat('goto ', REJECT_CHAIN);
const verdict = (v: 'reject' | 'drop') => (v === 'reject' ? GOTO_REJECT : 'drop');

/**
 * Receives a port's elements as they are compiled, instead of an ElementRef each in
 * PortRules.elements (then left empty): the full sync writes them straight into its text.
 * The key is `key + keyTail` and the value `value + valueTail` (tails often ""): parts that
 * exist already (an address, a slot number's text, a chain name), so that the 100,000
 * endpoint elements of a 10,000-Service sync make no string of their own.
 * An object with a method rather than a function: each sync's writer is a new object of one
 * class, where a new closure per sync would be a new call target for the optimized compiler
 * code, which V8 throws away and compiles again.
 */
export interface ElementSink {
  element(scope: string, set: string, key: string, keyTail: string, value: string, valueTail: string): void;
}

/** Texts of small numbers (endpoint slots) and of " . port" (endpoint values), made once. */
const SLOTS: string[] = [];
const slotText = (slot: number): string => SLOTS[slot] ?? (SLOTS[slot] = String(slot));
const PORT_TAILS = new Map<number, string>();
function portTail(port: number): string {
  let t = PORT_TAILS.get(port);
  if (t === undefined) PORT_TAILS.set(port, (t = cat(' . ', port)));
  return t;
}
const GOTO = 'goto ';

/**
 * `sink`: where the elements go (see ElementSink); without it, into PortRules.elements.
 * Either way a port gives each (set, key) once, the first claim.
 */
export function compileServicePort(sp: ServicePortState, fc: FamilyContext, sink?: ElementSink): PortRules {
  return new PortCompiler(sp, fc, sink).compile();
}

/** The entry addresses and node port whose traffic one dispatch chain's pick looks up. */
interface Reach {
  addrs: readonly string[];
  nodePort: number;
}

class PortCompiler {
  private readonly names: ChainNames;
  private readonly proto: string;
  private readonly chains: ChainDecl[] = [];
  private readonly shared: ChainDecl[] = [];
  private readonly sets: SetDecl[] = [];
  private readonly elements: ElementRef[] = [];
  /** Endpoint IPs given a hairpin element (a local endpoint is in both its sets). */
  private hairpins: Set<string> | null = null;
  /** set NUL key of every element given, only when the port's addresses repeat. */
  private readonly given: Set<string> | null;
  /** With ClientIP affinity: each endpoint's chain and timeout set. */
  private readonly endpointChains: Map<string, { chain: string; set: string }> | null;
  private readonly internalChain: string;

  constructor(
    private readonly sp: ServicePortState,
    private readonly fc: FamilyContext,
    private readonly sink?: ElementSink,
  ) {
    // One port claims an element at most once (the full sync's writer counts on it): its
    // addresses may repeat (a ClusterIP also listed as an external IP), and a local endpoint
    // is in both its cluster-wide and its node-local set. The first claim is the one kept.
    const addrs = sp.externalIPs.length + sp.loadBalancerIPs.length === 0 ? null : [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs];
    this.given = addrs && new Set(addrs).size < addrs.length ? new Set() : null;
    this.names = new ChainNames(sp);
    this.endpointChains = sp.sessionAffinity.type === 'ClientIP' ? new Map() : null;
    this.proto = sp.protocol.toLowerCase();
    this.internalChain = sp.internal.policy === 'Local' ? this.names.local : this.names.service;
  }

  compile(): PortRules {
    const { sp, names } = this;
    if (sp.sessionAffinity.type === 'ClientIP') this.affinityChains(sp.sessionAffinity.timeoutSeconds);
    const reach = this.reach();
    if (sp.clusterEndpoints !== null) this.dispatchChain(names.service, sp.clusterEndpoints, 'cluster', reach.cluster);
    if (sp.localEndpoints !== null) this.dispatchChain(names.local, sp.localEndpoints, 'local', reach.local);
    this.externalChain();
    this.entryElements();
    this.firewall();
    return { key: sp.key, chains: this.chains, shared: this.shared, sets: this.sets, elements: this.elements };
  }

  /**
   * scope: the address (or ":nodePort") the key is about; equal keys always share it
   * (elements.ts). The key is key + keyTail, the value value + valueTail (see ElementSink).
   */
  private el(scope: string, set: string, key: string, value = '', keyTail = '', valueTail = ''): void {
    if (this.given) {
      const id = set + '\u0000' + key + keyTail;
      if (this.given.has(id)) return;
      this.given.add(id);
    }
    if (this.sink) this.sink.element(scope, set, key, keyTail, value, valueTail);
    else this.elements.push({ set, key: key + keyTail, value: value + valueTail, owner: this.sp.key, scope });
  }

  /** ClientIP affinity keeps upstream's shape: one chain and one timeout set per endpoint. */
  private affinityChains(timeoutSeconds: number): void {
    const { sp, fc } = this;
    for (const ep of sp.allReachableEndpoints) {
      const base = endpointBase(sp, ep);
      const n = { chain: cat('endpoint-', base), set: cat('affinity-', base) };
      this.endpointChains!.set(ep.endpoint, n);
      this.sets.push({ kind: 'set', name: n.set, body: cat('type ', fc.addrType, ' ; flags dynamic,timeout ; timeout ', timeoutSeconds, 's ;') });
      this.chains.push({ name: n.chain, rules: [cat('update @', n.set, ' { ', fc.ipx, ' saddr }'), cat('meta l4proto ', this.proto, ' dnat to ', hostPort(ep))] });
    }
  }

  /**
   * The addresses (ip . port) and node port whose traffic reaches the cluster-wide and the
   * node-local chain: the pick chains look the endpoint up under exactly these keys. External
   * traffic reaches the cluster chain under eTP Cluster and when short-circuited.
   */
  private reach(): { cluster: Reach; local: Reach } {
    const { sp } = this;
    const capture = sp.external?.capture === true;
    const externalAddrs = capture && sp.externalIPs.length + sp.loadBalancerIPs.length > 0 ? [...sp.externalIPs, ...sp.loadBalancerIPs] : NO_ADDRS;
    const externalNodePort = capture ? sp.nodePort : 0;
    const externalLocal = sp.external?.policy === 'Local';
    const internalLocal = sp.internal.policy === 'Local';
    // (arrays made only when there is something to put in them: one per port at most, usually)
    const withClusterIP = (addrs: readonly string[]) => (addrs.length === 0 ? [sp.clusterIP] : [sp.clusterIP, ...addrs]);
    return {
      cluster: { addrs: internalLocal ? externalAddrs : withClusterIP(externalAddrs), nodePort: externalNodePort },
      local: {
        addrs: internalLocal ? withClusterIP(externalLocal ? externalAddrs : NO_ADDRS) : externalLocal ? externalAddrs : NO_ADDRS,
        nodePort: externalLocal ? externalNodePort : 0,
      },
    };
  }

  /** The chain that picks one endpoint of a set: DNAT, a shared pick chain, or affinity chains. */
  private dispatchChain(name: string, eps: readonly Endpoint[], kind: 'cluster' | 'local', reach: Reach): void {
    const { sp, fc, proto } = this;
    const ipx = fc.ipx;
    const affinity = sp.sessionAffinity.type === 'ClientIP';
    const chains = this.endpointChains;
    const chainOf = (ep: Endpoint) => chains!.get(ep.endpoint)!;
    const rules: string[] = [];
    if (name === this.internalChain) {
      if (fc.masqueradeAll) rules.push(cat(ipx, ' daddr ', sp.clusterIP, ' jump ', MARK_FOR_MASQUERADE));
      else if (fc.detector) rules.push(cat(ipx, ' daddr ', sp.clusterIP, ' ', fc.detector.ifNotLocal, ' jump ', MARK_FOR_MASQUERADE));
    }
    if (affinity) for (const ep of eps) rules.push(cat(ipx, ' saddr @', chainOf(ep).set, ' goto ', chainOf(ep).chain));
    if (eps.length === 1) {
      rules.push(affinity ? cat('goto ', chainOf(eps[0]).chain) : cat('meta l4proto ', proto, ' dnat to ', hostPort(eps[0])));
    } else if (eps.length > 1) {
      const pick = pickChain(fc, kind, proto, eps.length, affinity);
      this.shared.push(pick);
      rules.push(gotoRule(pick.name));
      const base = kind === 'local' ? LOCAL_SLOT_OFFSET : 0;
      // Keys and values in parts that exist already (see ElementSink): "addr . port . " and
      // the slot; the endpoint's address and " . port" (or "goto " and its chain). The
      // affinity maps serve every protocol: their keys hold it ("addr . proto . port . ").
      const addrSet = affinity ? SERVICE_ENDPOINT_CHAINS : serviceEndpointsMap(proto);
      const portSet = affinity ? NODEPORT_ENDPOINT_CHAINS : nodePortEndpointsMap(proto);
      const addrs = reach.addrs;
      const prefixes = new Array<string>(addrs.length); // (exact size: a pushed array keeps room for 17)
      for (let a = 0; a < addrs.length; a++) prefixes[a] = affinity ? cat(addrs[a], ' . ', proto, ' . ', sp.port, ' . ') : cat(addrs[a], ' . ', sp.port, ' . ');
      const nodePort = reach.nodePort;
      const portScope = nodePort ? nodePortScope(nodePort) : '';
      const portPrefix = nodePort ? (affinity ? cat(proto, ' . ', nodePort, ' . ') : cat(nodePort, ' . ')) : '';
      for (let i = 0; i < eps.length; i++) {
        const ep = eps[i];
        const value = affinity ? GOTO : ep.ip;
        const valueTail = affinity ? chainOf(ep).chain : portTail(ep.port);
        const slot = slotText(base + i);
        for (let a = 0; a < addrs.length; a++) this.el(addrs[a], addrSet, prefixes[a], value, slot, valueTail);
        if (nodePort) this.el(portScope, portSet, portPrefix, value, slot, valueTail);
      }
    }
    // Only an endpoint on this node (or at a node address) can send through this node's
    // nat prerouting/output to its own Service: a remote pod's Service traffic is proxied on
    // its own node. This keeps the hairpin set to the node's pods, not the whole cluster.
    for (const ep of eps) {
      if (!ep.isLocal && !fc.nodeAddresses.has(ep.ip)) continue;
      if (this.hairpins === null) this.hairpins = new Set();
      else if (this.hairpins.has(ep.ip)) continue;
      this.hairpins.add(ep.ip);
      this.el(ep.ip, HAIRPIN_SET, `${ep.ip} . ${ep.ip}`);
    }
    this.chains.push({ name, rules });
  }

  /** The external chain: masquerade and short-circuit as the model says, then the policy's set. */
  private externalChain(): void {
    const { sp, fc, names } = this;
    const ext = sp.external;
    if (!ext?.capture) return;
    const rules: string[] = [];
    if (ext.masquerade === 'all') rules.push(cat('jump ', MARK_FOR_MASQUERADE));
    if (ext.shortCircuit) {
      // Pods and the node itself reach every endpoint (short-circuit); only traffic from
      // outside is held to this node's endpoints and keeps its source address.
      if (fc.detector) rules.push(cat(fc.detector.ifLocal, ' goto ', names.service, ' comment "short-circuit pod traffic"'));
      rules.push(cat('fib saddr type local jump ', MARK_FOR_MASQUERADE, ' comment "masquerade local traffic"'));
      rules.push(cat('fib saddr type local goto ', names.service, ' comment "short-circuit local traffic"'));
    }
    // With no endpoint for its policy, what is left falls through unDNATed and meets the
    // no-endpoint check in the filter hooks (ext.noEndpoints).
    if (ext.endpoints.length > 0) rules.push(cat('goto ', ext.policy === 'Local' ? names.local : names.service));
    this.chains.push({ name: names.external, rules });
  }

  /** Each entry point in the dispatch maps, or in the no-endpoint maps with the model's verdict. */
  private entryElements(): void {
    const { sp, proto, names } = this;
    // Keys "ip . proto . port": the address and this tail (see ElementSink).
    const tail = cat(' . ', proto, ' . ', sp.port);
    this.el(sp.clusterIP, 'cluster-ips', sp.clusterIP);
    if (sp.internal.noEndpoints === null) this.el(sp.clusterIP, 'service-ips', sp.clusterIP, GOTO, tail, this.internalChain);
    else this.el(sp.clusterIP, 'no-endpoint-services', sp.clusterIP, verdict(sp.internal.noEndpoints), tail);
    const ext = sp.external;
    if (!ext) return;
    for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs]) {
      if (ext.capture) this.el(ip, 'service-ips', ip, GOTO, tail, names.external);
      if (ext.noEndpoints) this.el(ip, 'no-endpoint-services', ip, verdict(ext.noEndpoints), tail);
    }
    if (sp.nodePort) {
      const scope = nodePortScope(sp.nodePort);
      if (ext.capture) this.el(scope, 'service-nodeports', `${proto} . ${sp.nodePort}`, `goto ${names.external}`);
      if (ext.noEndpoints) this.el(scope, 'no-endpoint-nodeports', `${proto} . ${sp.nodePort}`, verdict(ext.noEndpoints));
    }
  }

  /** loadBalancerSourceRanges as the model applied them: checked before DNAT, for LB IPs only. */
  private firewall(): void {
    const { sp, fc, proto, names } = this;
    const allowed = sp.external?.loadBalancerAllowedSources ?? [];
    if (sp.loadBalancerIPs.length === 0 || allowed.length === 0) return;
    const set = allowed.length === 1 ? allowed[0] : cat('{ ', allowed.join(', '), ' }');
    this.chains.push({ name: names.firewall, rules: [cat(fc.ipx, ' saddr != ', set, ' drop')] });
    const tail = cat(' . ', proto, ' . ', sp.port);
    for (const ip of sp.loadBalancerIPs) this.el(ip, 'firewall-ips', ip, GOTO, tail, names.firewall);
  }
}
