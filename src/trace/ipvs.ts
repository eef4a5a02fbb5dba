// The IPVS-mode tracer: answers from what the IPVS compiler produces (virtual services,
// ipset members; the iptables rules around them are fixed), in the kernel's order for a
// packet that arrives at the node: nat PREROUTING (KUBE-SERVICES: masquerade marks), filter
// INPUT (source ranges, no-endpoint reject/drop, kube-ipvs0 filter), IPVS at LOCAL_IN
// (virtual service lookup, the scheduler's candidates), nat POSTROUTING (masquerade, hairpin).
// IPVS schedulers are not random: the probabilities are each server's share of new
// connections over many of them (its weight over the total), and the notes say what decides
// one particular connection.
import { cidrContains, parseCIDR } from '../api/ip.js';
import { Fraction } from './fraction.js';
import { ipsetName, type IpvsTables } from './ipvs-text.js';
import type { Outcome, Packet, PathStep, TraceEvent, TraceResult } from './result.js';

export interface IpvsTraceOptions {
  /** Addresses of this node (node ports are served on them). */
  localAddresses: readonly string[];
  masqueradeAll: boolean;
  /** Pod CIDRs of the local-traffic detector (ClusterCIDR mode); empty: no detector. */
  podCIDRs: readonly string[];
}

const SCHEDULER_NOTES: Record<string, string> = {
  rr: 'rr takes the servers in turn: the share is exact over consecutive connections; which server this one gets depends on the ones before it',
  wrr: 'wrr takes the servers in turn by weight: the share is exact over consecutive connections',
  sh: 'sh hashes the source address: every connection from this source goes to the same server; the share is over many sources',
  dh: 'dh hashes the destination address: every connection to this address goes to the same server',
  mh: 'mh (Maglev) hashes the source: every connection from this source goes to the same server; the share is over many sources',
};

const SET = {
  loopBack: 'KUBE-LOOP-BACK',
  clusterIP: 'KUBE-CLUSTER-IP',
  externalIP: 'KUBE-EXTERNAL-IP',
  loadBalancer: 'KUBE-LOAD-BALANCER',
  loadBalancerLocal: 'KUBE-LOAD-BALANCER-LOCAL',
  loadBalancerFW: 'KUBE-LOAD-BALANCER-FW',
  loadBalancerSourceCIDR: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  nodePortTCP: 'KUBE-NODE-PORT-TCP',
  nodePortLocalTCP: 'KUBE-NODE-PORT-LOCAL-TCP',
  nodePortUDP: 'KUBE-NODE-PORT-UDP',
  nodePortLocalUDP: 'KUBE-NODE-PORT-LOCAL-UDP',
  nodePortSCTP: 'KUBE-NODE-PORT-SCTP-HASH',
  nodePortLocalSCTP: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  healthCheckNodePort: 'KUBE-HEALTH-CHECK-NODE-PORT',
  ipvsIPs: 'KUBE-IPVS-IPS',
  noEndpointsReject: 'KUBE-NO-ENDPOINTS-REJECT',
  noEndpointsDrop: 'KUBE-NO-ENDPOINTS-DROP',
} as const;
type SetKey = keyof typeof SET;
const ipPort = (ip: string, proto: string, port: number) => `${ip},${proto}:${port}`;

export function traceIpvs(fr: IpvsTables, p: Packet, o: IpvsTraceOptions): TraceResult {
  const events: TraceEvent[] = [];
  const notes: string[] = [];
  const s = (k: SetKey) => ipsetName(SET[k], p.family);
  const has = (k: SetKey, m: string) => fr.sets.get(s(k))?.has(m) ?? false;
  const hit = (table: string, chain: string, rule: string, text: string) => {
    const step: PathStep = { table, chain, rule };
    events.push({ depth: 0, text: `${table} ${chain}: ${rule}  — ${text}`, step });
  };
  const dst = ipPort(p.dst, p.protocol, p.dport);
  const isLocal = o.localAddresses.includes(p.dst) || fr.addresses.includes(p.dst);
  const fromPod = o.podCIDRs.some((c) => {
    const cidr = parseCIDR(c);
    return cidr !== null && cidrContains(cidr, p.src);
  });
  const end = (verdict: Outcome['verdict']): TraceResult => ({ packet: p, notes, outcomes: [{ probability: Fraction.ONE, verdict, endpoint: null, masquerade: false, events }] });

  // nat PREROUTING → KUBE-SERVICES: which traffic is marked for masquerade
  let masq = false;
  const mark = (table: string, chain: string, rule: string, text: string) => {
    masq = true;
    hit(table, chain, rule, text);
  };
  if (has('clusterIP', dst)) {
    if (o.masqueradeAll) mark('nat', 'KUBE-SERVICES', `-m set --match-set ${s('clusterIP')} dst,dst -j KUBE-MARK-MASQ`, '--masquerade-all');
    else if (o.podCIDRs.length > 0 && !fromPod)
      mark('nat', 'KUBE-SERVICES', `! -s ${o.podCIDRs[0]} -m set --match-set ${s('clusterIP')} dst,dst -j KUBE-MARK-MASQ`, 'ClusterIP traffic from outside the pod network');
  }
  if (has('externalIP', dst)) mark('nat', 'KUBE-SERVICES', `-m set --match-set ${s('externalIP')} dst,dst -j KUBE-MARK-MASQ`, 'external IP');
  if (has('loadBalancer', dst)) {
    hit('nat', 'KUBE-SERVICES', `-m set --match-set ${s('loadBalancer')} dst,dst -j KUBE-LOAD-BALANCER`, 'LoadBalancer IP');
    if (has('loadBalancerLocal', dst)) hit('nat', 'KUBE-LOAD-BALANCER', `-m set --match-set ${s('loadBalancerLocal')} dst,dst -j RETURN`, 'externalTrafficPolicy Local: the client address is kept');
    else mark('nat', 'KUBE-LOAD-BALANCER', '-j KUBE-MARK-MASQ', 'masquerade');
  }
  if (isLocal) {
    // TCP and UDP node ports are bitmaps of ports; SCTP's are hashes of address,sctp:port.
    const P = p.protocol.toUpperCase() as 'TCP' | 'UDP' | 'SCTP';
    const [member, match] = P === 'SCTP' ? [dst, 'dst,dst'] : [String(p.dport), 'dst'];
    if (has(`nodePortLocal${P}`, member))
      hit('nat', 'KUBE-NODE-PORT', `-p ${p.protocol} -m set --match-set ${s(`nodePortLocal${P}`)} ${match} -j RETURN`, `${P} node port with externalTrafficPolicy Local`);
    else if (has(`nodePort${P}`, member)) mark('nat', 'KUBE-NODE-PORT', `-p ${p.protocol} -m set --match-set ${s(`nodePort${P}`)} ${match} -j KUBE-MARK-MASQ`, `${P} node port`);
  }

  // filter INPUT
  if (has('loadBalancerFW', dst)) {
    hit('filter', 'KUBE-PROXY-FIREWALL', `-m set --match-set ${s('loadBalancerFW')} dst,dst -j KUBE-SOURCE-RANGES-FIREWALL`, 'loadBalancerSourceRanges apply');
    const allowed = [...(fr.sets.get(s('loadBalancerSourceCIDR')) ?? [])].some((m) => {
      // "LB-IP,proto:port,source": the source as ipset prints it, a lone host without its /32 (/128)
      if (!m.startsWith(`${dst},`)) return false;
      const net = m.slice(dst.length + 1);
      const cidr = parseCIDR(net.includes('/') ? net : `${net}/${p.family === 'IPv4' ? 32 : 128}`);
      return cidr !== null && cidrContains(cidr, p.src);
    });
    if (!allowed) {
      hit('filter', 'KUBE-SOURCE-RANGES-FIREWALL', '-j DROP', `${p.src} is in no allowed source range`);
      return end('DROP');
    }
    hit('filter', 'KUBE-SOURCE-RANGES-FIREWALL', `-m set --match-set ${s('loadBalancerSourceCIDR')} dst,dst,src -j RETURN`, 'allowed source');
  }
  if (has('noEndpointsReject', dst)) {
    hit('filter', 'KUBE-IPVS-NO-ENDPOINTS', `-m set --match-set ${s('noEndpointsReject')} dst,dst -j REJECT`, 'the Service has no endpoints');
    return end('REJECT');
  }
  if (has('noEndpointsDrop', dst)) {
    hit('filter', 'KUBE-IPVS-NO-ENDPOINTS', `-m set --match-set ${s('noEndpointsDrop')} dst,dst -j DROP`, 'no usable endpoints for this traffic policy');
    return end('DROP');
  }

  // IPVS
  const vs = fr.services.find((v) => v.protocol === p.protocol && v.address === p.dst && v.port === p.dport);
  if (!vs) {
    // filter INPUT → KUBE-NODE-PORT accepts the health check node ports (a bitmap of ports);
    // the filter table comes before IPVS at LOCAL_IN, so a virtual service would still take it.
    if (has('healthCheckNodePort', String(p.dport))) {
      hit('filter', 'KUBE-NODE-PORT', `-m set --match-set ${s('healthCheckNodePort')} dst -j ACCEPT`, 'a health check node port');
      return end('ACCEPT');
    }
    if (has('ipvsIPs', p.dst)) {
      hit('filter', 'KUBE-IPVS-FILTER', `-m conntrack --ctstate NEW -m set --match-set ${s('ipvsIPs')} dst -j REJECT`, 'a kube-ipvs0 address, but no service port');
      return end('REJECT');
    }
    notes.push('no IPVS virtual service has this address, port and protocol');
    return end('NONE');
  }
  const flag = p.protocol === 'tcp' ? '-t' : p.protocol === 'udp' ? '-u' : '--sctp-service';
  const vsRule = `-A ${flag} ${p.family === 'IPv6' ? `[${p.dst}]` : p.dst}:${p.dport} -s ${vs.scheduler}${vs.persistenceSeconds ? ` -p ${vs.persistenceSeconds}` : ''}`;
  hit('ipvs', 'virtual service', vsRule, `scheduler ${vs.scheduler}`);
  notes.push(SCHEDULER_NOTES[vs.scheduler] ?? `${vs.scheduler} picks by the servers' current connections: the share is that of idle servers`);
  if (vs.persistenceSeconds) notes.push(`persistence: after the first connection, every connection from ${p.src} goes to the same server for ${vs.persistenceSeconds} s`);
  const live = vs.realServers.filter((r) => r.weight > 0);
  const total = live.reduce((n, r) => n + r.weight, 0);
  if (live.length === 0) return end('REJECT'); // IPVS itself answers ICMP port unreachable
  const outcomes: Outcome[] = live.map((r) => {
    const hairpin = r.address === p.src && has('loopBack', `${r.address},${p.protocol}:${r.port},${r.address}`);
    // A real server at one of the node's own addresses (a hostNetwork endpoint) takes a packet
    // from elsewhere by local delivery: it never reaches POSTROUTING, so the mark is not acted on.
    const delivered = o.localAddresses.includes(r.address) && !o.localAddresses.includes(p.src);
    const evs: TraceEvent[] = [...events];
    const rsRule = `-a ${flag} ${p.family === 'IPv6' ? `[${p.dst}]` : p.dst}:${p.dport} -r ${r.address.includes(':') ? `[${r.address}]` : r.address}:${r.port} -m -w ${r.weight}`;
    evs.push({ depth: 1, text: `ipvs real server: ${rsRule}`, step: { table: 'ipvs', chain: 'real server', rule: rsRule } });
    if (hairpin)
      evs.push({
        depth: 1,
        text: `nat KUBE-POSTROUTING: -m set --match-set ${s('loopBack')} dst,dst,src -j MASQUERADE  — hairpin`,
        step: { table: 'nat', chain: 'KUBE-POSTROUTING', rule: `-m set --match-set ${s('loopBack')} dst,dst,src -j MASQUERADE` },
      });
    else if (masq && delivered) evs.push({ depth: 1, text: `${r.address} is this node's address: delivered locally, not masqueraded` });
    else if (masq)
      evs.push({
        depth: 1,
        text: 'nat KUBE-POSTROUTING: -j MASQUERADE --random-fully  — marked for masquerade',
        step: { table: 'nat', chain: 'KUBE-POSTROUTING', rule: '-j MASQUERADE --random-fully' },
      });
    return { probability: Fraction.of(r.weight, total), verdict: 'DNAT', endpoint: { ip: r.address, port: r.port }, masquerade: (masq && !delivered) || hairpin, events: evs };
  });
  return { packet: p, notes, outcomes };
}
