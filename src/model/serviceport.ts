// Builds the ServicePortStates of one Service on this node: one per port and IP family,
// with its endpoints resolved from the Service's EndpointSlices and categorised.
import ipaddr from 'ipaddr.js';
import type { IPFamily } from '../api/ip.js';
import { cidrContains, ipv4ToNumber, joinHostPort, parseCIDR } from '../api/ip.js';
import type { EndpointSlice, Service, ServicePortSpec } from '../api/types.js';
import { categorizeEndpoints, type Categorized } from './topology.js';
import type { Endpoint, ExternalEntry, InternalEntry, NodeInfo, NoEndpointsVerdict, ServicePortState } from './types.js';

export interface BuildOptions {
  node: NodeInfo;
  /** Feature gate PreferSameTrafficDistribution (node hints). */
  preferSameNode: boolean;
}

/** True for Services that no dataplane programs: headless, ExternalName, no cluster IP yet. */
export function isProxied(svc: Service): boolean {
  return !svc.headless && svc.type !== 'ExternalName' && svc.clusterIPs.length > 0;
}

// Keys live as long as their port (and as map keys): join builds V8's flat string, where a
// template literal may leave a tree of pieces several times its size.
export function servicePortName(namespace: string, name: string, portName: string): string {
  return portName ? [namespace, '/', name, ':', portName].join('') : [namespace, name].join('/');
}

export function servicePortKey(namespace: string, name: string, port: ServicePortSpec, family: IPFamily): string {
  return [namespace, '/', name, ':', port.name, '/', port.protocol, '/', family].join('');
}

/** One shared empty list for the many ports without externalIPs, LB addresses or ranges. */
const NONE: readonly never[] = Object.freeze([]);
const orNone = <T>(l: T[]): readonly T[] => (l.length === 0 ? NONE : l);

export function buildServicePorts(svc: Service, slices: readonly EndpointSlice[], opts: BuildOptions): ServicePortState[] {
  if (!isProxied(svc)) return [];
  const out: ServicePortState[] = [];
  svc.clusterIPs.forEach((clusterIP, i) => {
    const family = svc.ipFamilies[i] ?? (clusterIP.includes(':') ? 'IPv6' : 'IPv4');
    const ofFamily = (ip: string) => (ip.includes(':') ? 'IPv6' : 'IPv4') === family;
    const externalIPs = orNone(svc.externalIPs.filter(ofFamily));
    const isLB = svc.type === 'LoadBalancer';
    const ingress = orNone(isLB ? svc.loadBalancerIngress.filter((ing) => ing.family === family) : []);
    const loadBalancerIPs = orNone(ingress.filter((ing) => ing.ipMode === 'VIP').map((ing) => ing.ip));
    const sourceRanges = orNone(isLB ? svc.loadBalancerSourceRanges.filter(ofFamily) : []);
    const familySlices = slices.filter((s) => s.addressType === family);
    const primaryIP = family === 'IPv4' ? opts.node.primaryIPv4 : opts.node.primaryIPv6;
    for (const port of svc.ports) {
      const nodePort = svc.type === 'NodePort' || isLB ? port.nodePort : 0;
      const externallyAccessible = nodePort !== 0 || externalIPs.length > 0 || loadBalancerIPs.length > 0;
      const internalPolicyLocal = svc.internalTrafficPolicy === 'Local';
      const externalPolicyLocal = externallyAccessible && svc.externalTrafficPolicy === 'Local';
      const endpoints = resolveEndpoints(familySlices, port, opts.node.name);
      const cat = categorizeEndpoints(endpoints, {
        // Externally accessible ports need cluster endpoints even with eTP Local: traffic from
        // pods and from the node itself to an external address is short-circuited to them.
        usesClusterEndpoints: !internalPolicyLocal || externallyAccessible,
        usesLocalEndpoints: internalPolicyLocal || externalPolicyLocal,
        nodeName: opts.node.name,
        zone: opts.node.zone,
        preferSameNode: opts.preferSameNode,
      });
      out.push({
        key: servicePortKey(svc.namespace, svc.name, port, family),
        servicePortName: servicePortName(svc.namespace, svc.name, port.name),
        namespace: svc.namespace,
        name: svc.name,
        portName: port.name,
        protocol: port.protocol,
        family,
        type: svc.type,
        clusterIP,
        port: port.port,
        nodePort,
        targetPort: port.targetPort,
        externalIPs,
        loadBalancerIPs,
        loadBalancerIngress: ingress,
        loadBalancerSourceRanges: sourceRanges,
        healthCheckNodePort: isLB && svc.externalTrafficPolicy === 'Local' ? svc.healthCheckNodePort : 0,
        internalTrafficPolicy: svc.internalTrafficPolicy,
        externalTrafficPolicy: svc.externalTrafficPolicy,
        sessionAffinity: svc.sessionAffinity,
        annotations: svc.annotations,
        externallyAccessible,
        internalPolicyLocal,
        externalPolicyLocal,
        endpoints,
        clusterEndpoints: cat.clusterEndpoints,
        localEndpoints: cat.localEndpoints,
        allReachableEndpoints: cat.allReachableEndpoints,
        internal: internalEntry(svc, cat),
        external: externallyAccessible ? externalEntry(svc, cat, loadBalancerIPs, sourceRanges, primaryIP) : null,
        hasEndpoints: cat.hasAnyEndpoints,
      });
    }
  });
  return out;
}

const noEndpoints = (cat: Categorized, eps: readonly Endpoint[]): NoEndpointsVerdict | null => (eps.length > 0 ? null : cat.hasAnyEndpoints ? 'drop' : 'reject');

function internalEntry(svc: Service, cat: Categorized): InternalEntry {
  const policy = svc.internalTrafficPolicy;
  const endpoints = (policy === 'Local' ? cat.localEndpoints : cat.clusterEndpoints) ?? [];
  return { policy, endpoints, noEndpoints: noEndpoints(cat, endpoints) };
}

/**
 * kube-proxy's handling of external traffic (its iptables and nftables proxiers agree): the
 * external addresses are captured whenever the Service has a usable endpoint anywhere; with
 * eTP Local, Pods on this node and the node itself are short-circuited to the cluster-wide
 * set (a Pod must reach its Service's LB IP even on a node without endpoints), and only what
 * is left is dropped when there is no local endpoint.
 */
function externalEntry(svc: Service, cat: Categorized, lbIPs: readonly string[], sourceRanges: readonly string[], primaryIP: string): ExternalEntry {
  const policy = svc.externalTrafficPolicy;
  const local = policy === 'Local';
  const endpoints = (local ? cat.localEndpoints : cat.clusterEndpoints) ?? [];
  return {
    policy,
    capture: cat.hasAnyEndpoints,
    endpoints,
    shortCircuit: local,
    shortCircuitEndpoints: local ? (cat.clusterEndpoints ?? []) : [],
    masquerade: local ? 'node' : 'all',
    noEndpoints: noEndpoints(cat, endpoints),
    loadBalancerAllowedSources: orNone(allowedSources(lbIPs, sourceRanges, primaryIP)),
  };
}

/**
 * loadBalancerSourceRanges as the firewall applies them. When a range holds the node's own
 * IP, the LB IPs are allowed as sources too: a node that has the LB IP as a local address
 * reaches it with that address as the source, and the range meant to admit the node.
 */
function allowedSources(lbIPs: readonly string[], ranges: readonly string[], primaryIP: string): string[] {
  if (lbIPs.length === 0 || ranges.length === 0) return [];
  const cidrs = ranges.map((r) => parseCIDR(r)).filter((c) => c !== null);
  const out = cidrs.map((c) => c!.cidr);
  if (primaryIP && cidrs.some((c) => cidrContains(c!, primaryIP))) out.push(...lbIPs);
  return [...new Set(out)];
}

/**
 * The endpoints of one service port: the slice port with the same name and protocol gives
 * the port number; each slice endpoint contributes its first address. An endpoint listed in
 * several slices counts once, its ready form preferred.
 */
function resolveEndpoints(slices: readonly EndpointSlice[], port: ServicePortSpec, nodeName: string): Endpoint[] {
  const listed: Endpoint[] = [];
  for (const slice of slices) {
    const sp = slice.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!sp) continue;
    for (const e of slice.endpoints) {
      const ip = e.addresses[0];
      listed.push({
        ip,
        port: sp.port,
        endpoint: joinHostPort(ip, sp.port),
        isLocal: e.nodeName !== '' && e.nodeName === nodeName,
        ready: e.conditions.ready,
        serving: e.conditions.serving,
        terminating: e.conditions.terminating,
        nodeName: e.nodeName,
        zone: e.zone,
        zoneHints: e.zoneHints,
        nodeHints: e.nodeHints,
        hostname: e.hostname,
      });
    }
  }
  // Sorted, an endpoint listed twice sits next to itself. Usually none is: the sorted list is
  // the answer, with no table of "ip:port" strings to find them.
  const keyed = keyedByAddress(listed);
  for (let i = 1; i < keyed.length; i++) {
    if (keyed[i].k === keyed[i - 1].k && keyed[i].ep.port === keyed[i - 1].ep.port) return sortEndpoints(onceEach(listed));
  }
  return keyed.map((x) => x.ep);
}

/** One endpoint per "ip:port", in the order first listed: the first ready one listed, else the first. */
function onceEach(listed: readonly Endpoint[]): Endpoint[] {
  const byId = new Map<string, Endpoint>();
  for (const ep of listed) {
    const existing = byId.get(ep.endpoint);
    if (existing && (existing.ready || !ep.ready)) continue;
    byId.set(ep.endpoint, ep);
  }
  return [...byId.values()];
}

const ipKeys = new Map<string, string>();

/**
 * IPv4 as its 32-bit number, IPv6 as 32 hex digits: both order like the addresses. Only IPv6
 * keys are remembered: an IPv4 key costs less to compute than to look up, and remembering
 * 100,000 of them held megabytes for the life of the process.
 */
function ipKey(ip: string): number | string {
  const v4 = ipv4ToNumber(ip);
  if (v4 >= 0) return v4;
  let k = ipKeys.get(ip);
  if (k === undefined) {
    k = ipaddr
      .parse(ip)
      .toByteArray()
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    if (ipKeys.size > 1_000_000) ipKeys.clear();
    ipKeys.set(ip, k);
  }
  return k;
}

/** Numeric order by address (IPv4 before IPv6), then port: stable rule output whatever order the slices came in. */
export function sortEndpoints<T extends { ip: string; port: number }>(eps: T[]): T[] {
  return keyedByAddress(eps).map((x) => x.ep);
}

/** The endpoints with their address keys (ipKey), in sortEndpoints' order (a stable sort). */
function keyedByAddress<T extends { ip: string; port: number }>(eps: readonly T[]): { k: number | string; ep: T }[] {
  const keyed = eps.map((ep) => ({ k: ipKey(ep.ip), ep }));
  keyed.sort((a, b) => {
    if (a.k !== b.k) {
      if (typeof a.k !== typeof b.k) return typeof a.k === 'number' ? -1 : 1;
      return a.k < b.k ? -1 : 1;
    }
    return a.ep.port - b.ep.port;
  });
  return keyed;
}
