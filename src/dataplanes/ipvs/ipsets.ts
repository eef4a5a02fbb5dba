// The ipsets of kube-proxy's IPVS mode: IPVS itself only load-balances, so what must match
// many addresses at once (masquerade, hairpin, source ranges, node ports) is an ipset that a
// handful of fixed iptables rules refer to. Names and types as upstream; IPv6 sets carry
// "KUBE-6-" instead of "KUBE-" (one name is shortened to fit ipset's 31 characters).
import type { IPFamily } from '../../api/ip.js';

export type SetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export interface IpsetDef {
  /** Name of the IPv4 set. */
  name: string;
  type: SetType;
  comment: string;
}

const def = (name: string, type: SetType, comment: string): IpsetDef => ({ name, type, comment });

export const SETS = {
  loopBack: def('KUBE-LOOP-BACK', 'hash:ip,port,ip', 'endpoint ip:port and source ip: a pod reaching itself through a Service (hairpin)'),
  clusterIP: def('KUBE-CLUSTER-IP', 'hash:ip,port', 'ClusterIP:port of every service port'),
  externalIP: def('KUBE-EXTERNAL-IP', 'hash:ip,port', 'externalIP:port of service ports with externalTrafficPolicy Cluster'),
  externalIPLocal: def('KUBE-EXTERNAL-IP-LOCAL', 'hash:ip,port', 'externalIP:port of service ports with externalTrafficPolicy Local'),
  loadBalancer: def('KUBE-LOAD-BALANCER', 'hash:ip,port', 'LoadBalancer ingress IP:port'),
  loadBalancerLocal: def('KUBE-LOAD-BALANCER-LOCAL', 'hash:ip,port', 'LoadBalancer ingress IP:port with externalTrafficPolicy Local'),
  loadBalancerFW: def('KUBE-LOAD-BALANCER-FW', 'hash:ip,port', 'LoadBalancer ingress IP:port with loadBalancerSourceRanges'),
  loadBalancerSourceCIDR: def('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', 'LoadBalancer ingress IP:port and an allowed source range'),
  nodePortTCP: def('KUBE-NODE-PORT-TCP', 'bitmap:port', 'TCP node ports'),
  nodePortLocalTCP: def('KUBE-NODE-PORT-LOCAL-TCP', 'bitmap:port', 'TCP node ports with externalTrafficPolicy Local'),
  nodePortUDP: def('KUBE-NODE-PORT-UDP', 'bitmap:port', 'UDP node ports'),
  nodePortLocalUDP: def('KUBE-NODE-PORT-LOCAL-UDP', 'bitmap:port', 'UDP node ports with externalTrafficPolicy Local'),
  nodePortSCTP: def('KUBE-NODE-PORT-SCTP-HASH', 'hash:ip,port', 'SCTP node address:port'),
  nodePortLocalSCTP: def('KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'hash:ip,port', 'SCTP node address:port with externalTrafficPolicy Local'),
  healthCheckNodePort: def('KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'health check node ports'),
  ipvsIPs: def('KUBE-IPVS-IPS', 'hash:ip', 'every address bound to kube-ipvs0'),
  noEndpointsReject: def('KUBE-NO-ENDPOINTS-REJECT', 'hash:ip,port', 'service address:port with no endpoints: rejected'),
  noEndpointsDrop: def('KUBE-NO-ENDPOINTS-DROP', 'hash:ip,port', 'service address:port with no usable endpoints for its policy: dropped'),
} as const;

export type SetKey = keyof typeof SETS;

export function setName(key: SetKey, family: IPFamily): string {
  const n = SETS[key].name;
  if (family === 'IPv4') return n;
  if (key === 'loadBalancerSourceCIDR') return 'KUBE-6-LB-SOURCE-CIDR';
  if (key === 'nodePortLocalSCTP') return 'KUBE-6-NODE-PORT-LOCAL-SCTP';
  return n.replace(/^KUBE-/, 'KUBE-6-');
}

/** One family's sets with their members (each member in ipset's own syntax). */
export type IpsetContents = Map<SetKey, Set<string>>;

export function emptySets(): IpsetContents {
  return new Map((Object.keys(SETS) as SetKey[]).map((k) => [k, new Set<string>()]));
}

export function createOptions(key: SetKey, family: IPFamily): string {
  const t = SETS[key].type;
  if (t === 'bitmap:port') return `${t} range 0-65535`;
  return `${t} family ${family === 'IPv4' ? 'inet' : 'inet6'} hashsize 1024 maxelem 1048576`;
}

/** ipset members: "10.96.0.10,tcp:80", "10.244.1.11,tcp:8080,10.244.1.11", "30080". */
export const ipPort = (ip: string, proto: string, port: number) => `${ip},${proto}:${port}`;

/**
 * `ipset restore` text that makes each given set hold exactly its members, atomically per set:
 * fill a temporary set, swap it with the live one (rules keep pointing at the live name),
 * destroy the temporary one.
 */
export function renderIpsetRestore(family: IPFamily, sets: IpsetContents, only?: ReadonlySet<SetKey>): string {
  const lines: string[] = [];
  let i = 0;
  for (const [key, members] of sets) {
    if (only && !only.has(key)) continue;
    const name = setName(key, family);
    const tmp = `KPROXY-TMP-${family === 'IPv4' ? 4 : 6}-${i++}`;
    const opts = createOptions(key, family);
    lines.push(`create ${name} ${opts} -exist`, `create ${tmp} ${opts} -exist`, `flush ${tmp}`);
    for (const m of [...members].sort()) lines.push(`add ${tmp} ${m}`);
    lines.push(`swap ${tmp} ${name}`, `destroy ${tmp}`);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** `ipset save`-like listing, for `kproxy rules`. */
export function renderIpsetSave(family: IPFamily, sets: IpsetContents): string {
  const lines: string[] = [];
  for (const [key, members] of sets) {
    const name = setName(key, family);
    lines.push(`create ${name} ${createOptions(key, family)}`);
    for (const m of [...members].sort()) lines.push(`add ${name} ${m}`);
  }
  return lines.join('\n') + '\n';
}
