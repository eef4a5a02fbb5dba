// Reads the Service maps back into Services with their backends: what `kproxy rules
// --proxy-mode ebpf` prints and what `kproxy trace --proxy-mode ebpf` walks. Works on kernel
// maps and on the in-memory maps a compile produces alike.
import { FLAG_DROP, FLAG_REJECT, protoName, readAddrPort, readSvcValue, beKey, type Family, type ProtoName } from './layout.js';
import type { FamilyMaps } from './tables.js';

export interface DecodedService {
  family: Family;
  proto: ProtoName;
  ip: string;
  port: number;
  svcId: number;
  setId: number;
  affinitySeconds: number;
  /** What a connect() gets when there are no backends. */
  noBackends: 'ECONNREFUSED' | 'EPERM' | null;
  /** Slot order; every slot has weight 1 (the program picks a slot uniformly at random). */
  backends: { slot: number; ip: string; port: number; weight: number }[];
  /** Slots the Service counts but whose element is missing (never expected: a map was edited by hand). */
  missingSlots: number[];
}

export function decode(maps: Record<Family, FamilyMaps>): DecodedService[] {
  const out: DecodedService[] = [];
  for (const f of ['4', '6'] as Family[]) {
    for (const [k, v] of maps[f].services.entries()) {
      const a = readAddrPort(k, f);
      const sv = readSvcValue(v);
      const backends: DecodedService['backends'] = [];
      const missingSlots: number[] = [];
      for (let slot = 0; slot < sv.count; slot++) {
        const b = maps[f].backends.lookup(beKey(sv.setId, slot));
        if (b) backends.push({ slot, ...pick(readAddrPort(b, f)), weight: 1 });
        else missingSlots.push(slot);
      }
      out.push({
        family: f,
        proto: protoName(a.extra) ?? ('TCP' as ProtoName),
        ip: a.ip,
        port: a.port,
        svcId: sv.svcId,
        setId: sv.setId,
        affinitySeconds: sv.affinitySeconds,
        noBackends: sv.count > 0 ? null : sv.flags & FLAG_REJECT ? 'ECONNREFUSED' : sv.flags & FLAG_DROP ? 'EPERM' : 'EPERM',
        backends,
        missingSlots,
      });
    }
  }
  return out.sort((x, y) => (x.family !== y.family ? (x.family < y.family ? -1 : 1) : x.ip !== y.ip ? (x.ip < y.ip ? -1 : 1) : x.port !== y.port ? x.port - y.port : x.proto < y.proto ? -1 : 1));
}

/** The line between the maps and the nftables part in the mode's ruleset text (src/trace/bpf.ts reads it). */
export const NFT_PART_MARKER = '# NodePort, externalIPs and LoadBalancer IPs: the nftables ruleset ebpf mode applies';

const pick = (a: { ip: string; port: number }) => ({ ip: a.ip, port: a.port });

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** The text `kproxy rules --proxy-mode ebpf` prints. `names` maps "ip:port/PROTO" to the ServicePortName. */
export function renderMaps(services: readonly DecodedService[], names: ReadonlyMap<string, string> = new Map()): string {
  const lines = [
    '# kproxy ebpf: Services load-balanced at connect()/sendmsg() by the cgroup programs',
    '# kproxy_conn4/6, kproxy_send4/6 (and answered back by kproxy_recv4/6, kproxy_peer4/6).',
    '# Maps kproxy_svc4/6 (Service → set) and kproxy_be4/6 (set, slot → backend); a slot is',
    '# picked uniformly at random, so every backend has weight 1 and probability 1/count.',
  ];
  for (const s of services) {
    const id = `${hostPort(s.ip, s.port)}/${s.proto}`;
    const name = names.get(id);
    const aff = s.affinitySeconds > 0 ? ` affinity ClientIP ${s.affinitySeconds}s` : '';
    lines.push(`service ${id}${name ? ` ${name}` : ''} svc_id ${s.svcId} set ${s.setId} count ${s.backends.length + s.missingSlots.length}${aff}`);
    if (s.noBackends) lines.push(`  no backends: connect() fails with ${s.noBackends}`);
    for (const b of s.backends) lines.push(`  slot ${b.slot} ${hostPort(b.ip, b.port)} weight ${b.weight}`);
    for (const m of s.missingSlots) lines.push(`  slot ${m} MISSING`);
  }
  return lines.join('\n') + '\n';
}
