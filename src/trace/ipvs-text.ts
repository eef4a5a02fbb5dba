// Reads back the text `kproxy rules --proxy-mode ipvs` prints (or a saved copy of it) into
// what the IPVS tracer walks: per family the kube-ipvs0 addresses, the virtual services with
// their real servers, the ipset members, and from the fixed iptables rules whether ClusterIP
// traffic is masqueraded always (--masquerade-all) or only when not from the pod CIDR.
import type { IPFamily } from '../api/ip.js';
import type { FamilyRuleset } from '../dataplanes/ipvs/compile.js';
import { emptySets, setName, SETS, type SetKey } from '../dataplanes/ipvs/ipsets.js';
import type { IpvsProtocol, VirtualService } from '../dataplanes/ipvs/table.js';

export interface ParsedIpvsRules {
  families: Map<IPFamily, FamilyRuleset>;
  /** ClusterIP masquerade: 'all', 'not-from' a pod CIDR, or 'none'. */
  clusterMasquerade: Map<IPFamily, { kind: 'all' | 'not-from' | 'none'; cidr?: string }>;
}

const PROTO: Record<string, IpvsProtocol> = { '-t': 'tcp', '-u': 'udp', '--sctp-service': 'sctp' };

function hostPort(s: string): { address: string; port: number } | null {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return m ? { address: m[1], port: Number(m[2]) } : null;
}

export function parseIpvsRules(text: string): ParsedIpvsRules {
  const families = new Map<IPFamily, FamilyRuleset>();
  const clusterMasquerade: ParsedIpvsRules['clusterMasquerade'] = new Map();
  const setKeyByName = new Map<string, [IPFamily, SetKey]>();
  for (const fam of ['IPv4', 'IPv6'] as IPFamily[]) {
    families.set(fam, { family: fam, services: [], addresses: [], sets: emptySets(), iptables: '' });
    clusterMasquerade.set(fam, { kind: 'none' });
    for (const k of Object.keys(SETS) as SetKey[]) setKeyByName.set(setName(k, fam), [fam, k]);
  }
  let family: IPFamily = 'IPv4';
  const byId = new Map<string, VirtualService>();
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
      const vs: VirtualService = { protocol: PROTO[f[1]], ...hp, scheduler: f[f.indexOf('-s') + 1] ?? 'rr', persistenceSeconds: p > 0 ? Number(f[p + 1]) : 0, realServers: [] };
      byId.set(`${f[1]} ${f[2]}`, vs);
      fr.services.push(vs);
    } else if (f[0] === '-a' && PROTO[f[1]]) {
      const vs = byId.get(`${f[1]} ${f[2]}`);
      const rs = hostPort(f[f.indexOf('-r') + 1] ?? '');
      const w = f.indexOf('-w');
      if (vs && rs) vs.realServers.push({ ...rs, weight: w > 0 ? Number(f[w + 1]) : 1 });
    } else if (f[0] === 'add' && f.length >= 3) {
      const k = setKeyByName.get(f[1]);
      if (k) families.get(k[0])!.sets.get(k[1])!.add(f[2]);
    } else if (line.startsWith('-A KUBE-SERVICES') && line.includes(`--match-set ${setName('clusterIP', family)} dst,dst`) && line.endsWith('-j KUBE-MARK-MASQ')) {
      const m = /! -s (\S+)/.exec(line);
      // An interface-based detector (`! -i …`) cannot be judged from addresses: not traced.
      clusterMasquerade.set(family, m ? { kind: 'not-from', cidr: m[1] } : line.includes('! -i ') ? { kind: 'none' } : { kind: 'all' });
    }
  }
  return { families, clusterMasquerade };
}
