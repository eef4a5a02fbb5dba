// Reads back the text `kproxy rules --proxy-mode ipvs` prints (or a saved copy of it) into
// what the IPVS tracer walks: per family the kube-ipvs0 addresses, the virtual services with
// their real servers, the ipset members, and from the fixed iptables rules whether ClusterIP
// traffic is masqueraded always (--masquerade-all) or only when not from the pod CIDR.
import type { IPFamily } from '../api/ip.js';

export type IpvsProtocol = 'tcp' | 'udp' | 'sctp';

export interface TracedVirtualService {
  protocol: IpvsProtocol;
  address: string;
  port: number;
  scheduler: string;
  persistenceSeconds: number;
  realServers: { address: string; port: number; weight: number }[];
}

/** One family's IPVS table, kube-ipvs0 addresses and ipset members (by set name). */
export interface IpvsTables {
  family: IPFamily;
  services: TracedVirtualService[];
  addresses: string[];
  sets: Map<string, Set<string>>;
}

/** kube-proxy's ipset names for a family (IPv6: "KUBE-6-…", one shortened to fit 31 characters). */
export function ipsetName(base: string, family: IPFamily): string {
  if (family === 'IPv4') return base;
  if (base === 'KUBE-LOAD-BALANCER-SOURCE-CIDR') return 'KUBE-6-LB-SOURCE-CIDR';
  if (base === 'KUBE-NODE-PORT-LOCAL-SCTP-HASH') return 'KUBE-6-NODE-PORT-LOCAL-SCTP';
  return base.replace(/^KUBE-/, 'KUBE-6-');
}

export interface ParsedIpvsRules {
  families: Map<IPFamily, IpvsTables>;
  /** ClusterIP masquerade: 'all', 'not-from' a pod CIDR, or 'none'. */
  clusterMasquerade: Map<IPFamily, { kind: 'all' | 'not-from' | 'none'; cidr?: string }>;
}

const PROTO: Record<string, IpvsProtocol> = { '-t': 'tcp', '-u': 'udp', '--sctp-service': 'sctp' };

function hostPort(s: string): { address: string; port: number } | null {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return m ? { address: m[1], port: Number(m[2]) } : null;
}

export function parseIpvsRules(text: string): ParsedIpvsRules {
  const families = new Map<IPFamily, IpvsTables>();
  const clusterMasquerade: ParsedIpvsRules['clusterMasquerade'] = new Map();
  for (const fam of ['IPv4', 'IPv6'] as IPFamily[]) {
    families.set(fam, { family: fam, services: [], addresses: [], sets: new Map() });
    clusterMasquerade.set(fam, { kind: 'none' });
  }
  let family: IPFamily = 'IPv4';
  const byId = new Map<string, TracedVirtualService>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^# (IPv4|IPv6):/.exec(line);
    if (header) {
      family = header[1] as IPFamily;
      continue;
    }
    const fr = families.get(family)!;
    const f = line.split(/\s+/);
    if (/^[0-9a-fA-F.:]+\/\d+$/.test(line)) fr.addresses.push(line.slice(0, line.indexOf('/')));
    else if (f[0] === '-A' && PROTO[f[1]]) {
      const hp = hostPort(f[2]);
      if (!hp) continue;
      const p = f.indexOf('-p');
      const vs: TracedVirtualService = { protocol: PROTO[f[1]], ...hp, scheduler: f[f.indexOf('-s') + 1] ?? 'rr', persistenceSeconds: p > 0 ? Number(f[p + 1]) : 0, realServers: [] };
      byId.set(`${f[1]} ${f[2]}`, vs);
      fr.services.push(vs);
    } else if (f[0] === '-a' && PROTO[f[1]]) {
      const vs = byId.get(`${f[1]} ${f[2]}`);
      const rs = hostPort(f[f.indexOf('-r') + 1] ?? '');
      const w = f.indexOf('-w');
      if (vs && rs) vs.realServers.push({ ...rs, weight: w > 0 ? Number(f[w + 1]) : 1 });
    } else if (f[0] === 'add' && f.length >= 3) {
      if (!fr.sets.has(f[1])) fr.sets.set(f[1], new Set());
      fr.sets.get(f[1])!.add(f[2]);
    } else if (line.startsWith('-A KUBE-SERVICES') && line.includes(`--match-set ${ipsetName('KUBE-CLUSTER-IP', family)} dst,dst`) && line.endsWith('-j KUBE-MARK-MASQ')) {
      const m = /! -s (\S+)/.exec(line);
      // An interface-based detector (`! -i …`) cannot be judged from addresses: not traced.
      clusterMasquerade.set(family, m ? { kind: 'not-from', cidr: m[1] } : line.includes('! -i ') ? { kind: 'none' } : { kind: 'all' });
    }
  }
  return { families, clusterMasquerade };
}
