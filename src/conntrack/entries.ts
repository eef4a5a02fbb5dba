// Parsing `conntrack -L` lines and deciding which UDP entries are stale: pure functions, so
// the decision is testable without a kernel.
//
// A line looks like:
//   udp 17 29 src=192.168.50.2 dst=10.96.0.53 sport=40000 dport=53 [UNREPLIED] src=10.244.1.11 dst=192.168.50.2 sport=5353 dport=40000 mark=0 use=1
// The first src/dst/sport/dport are the original direction, the second set the reply.
import { joinHostPort } from '../api/ip.js';
import type { IPFamily } from '../api/ip.js';
import type { ProxyState } from '../model/types.js';

export interface ConntrackEntry {
  origSrc: string;
  origDst: string;
  origSport: number;
  origDport: number;
  replySrc: string;
  replySport: number;
}

export function parseConntrackLine(line: string): ConntrackEntry | null {
  const src: string[] = [];
  const dst: string[] = [];
  const sport: number[] = [];
  const dport: number[] = [];
  for (const tok of line.trim().split(/\s+/)) {
    const eq = tok.indexOf('=');
    if (eq < 0) continue;
    const k = tok.slice(0, eq);
    const v = tok.slice(eq + 1);
    if (k === 'src') src.push(v);
    else if (k === 'dst') dst.push(v);
    else if (k === 'sport') sport.push(Number(v));
    else if (k === 'dport') dport.push(Number(v));
  }
  if (src.length < 2 || dst.length < 1 || sport.length < 2 || dport.length < 1) return null;
  return { origSrc: src[0], origDst: dst[0], origSport: sport[0], origDport: dport[0], replySrc: src[1], replySport: sport[1] };
}

/** What the UDP services of one family expect conntrack to show. */
export interface UDPServiceIndex {
  /** "ip:port" of a ClusterIP / externalIP / LB IP → serving endpoints ("ip:port"). */
  byAddress: Map<string, Set<string>>;
  /** NodePort → serving endpoints; applies to entries whose original destination is a node address. */
  byNodePort: Map<number, Set<string>>;
  nodeAddresses: Set<string>;
}

export function udpServiceIndex(state: ProxyState, family: IPFamily): UDPServiceIndex {
  const byAddress = new Map<string, Set<string>>();
  const byNodePort = new Map<number, Set<string>>();
  const add = <K>(m: Map<K, Set<string>>, k: K, eps: Set<string>) => {
    const cur = m.get(k);
    if (cur) for (const e of eps) cur.add(e);
    else m.set(k, new Set(eps));
  };
  for (const sp of state.servicePorts.values()) {
    if (sp.protocol !== 'UDP' || sp.family !== family) continue;
    const serving = new Set(sp.allReachableEndpoints.map((e) => e.endpoint));
    for (const ip of [sp.clusterIP, ...sp.externalIPs, ...sp.loadBalancerIPs]) add(byAddress, joinHostPort(ip, sp.port), serving);
    if (sp.nodePort) add(byNodePort, sp.nodePort, serving);
  }
  return { byAddress, byNodePort, nodeAddresses: new Set(state.node.addresses) };
}

/**
 * True when the entry goes to a Service (address or NodePort) but its reply does not come
 * from one of that Service's serving endpoints: the flow is stuck on an endpoint that left,
 * or on the "no endpoints" verdict from before endpoints appeared.
 */
export function isStale(e: ConntrackEntry, idx: UDPServiceIndex): boolean {
  let serving = idx.byAddress.get(joinHostPort(e.origDst, e.origDport));
  if (!serving && idx.nodeAddresses.has(e.origDst)) serving = idx.byNodePort.get(e.origDport);
  if (!serving) return false;
  return !serving.has(joinHostPort(e.replySrc, e.replySport));
}
