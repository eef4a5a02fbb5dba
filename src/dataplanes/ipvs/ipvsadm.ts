// ipvsadm's text forms: the `ipvsadm -S -n` form of a table (what `ipvsadm -R` reads, and
// what `kproxy rules` prints), the commands of an incremental change, and a parser of
// `ipvsadm -L -n` (the kernel's table with its connection counts).
import { joinHostPort } from '../../api/ip.js';
import { PROTOCOL_FLAG, type IpvsProtocol, type KernelVirtualService, type RealServer, type VirtualService } from './table.js';

const vsArgs = (vs: Pick<VirtualService, 'protocol' | 'address' | 'port'>) => `${PROTOCOL_FLAG[vs.protocol]} ${joinHostPort(vs.address, vs.port)}`;

export function addService(vs: VirtualService): string {
  return `-A ${vsArgs(vs)} -s ${vs.scheduler}${vs.persistenceSeconds > 0 ? ` -p ${vs.persistenceSeconds}` : ''}`;
}
export function editService(vs: VirtualService): string {
  return `-E ${vsArgs(vs)} -s ${vs.scheduler}${vs.persistenceSeconds > 0 ? ` -p ${vs.persistenceSeconds}` : ''}`;
}
export function deleteService(vs: Pick<VirtualService, 'protocol' | 'address' | 'port'>): string {
  return `-D ${vsArgs(vs)}`;
}
export function addRealServer(vs: Pick<VirtualService, 'protocol' | 'address' | 'port'>, rs: RealServer): string {
  return `-a ${vsArgs(vs)} -r ${joinHostPort(rs.address, rs.port)} -m -w ${rs.weight}`;
}
export function editRealServer(vs: Pick<VirtualService, 'protocol' | 'address' | 'port'>, rs: RealServer): string {
  return `-e ${vsArgs(vs)} -r ${joinHostPort(rs.address, rs.port)} -m -w ${rs.weight}`;
}
export function deleteRealServer(vs: Pick<VirtualService, 'protocol' | 'address' | 'port'>, rs: Pick<RealServer, 'address' | 'port'>): string {
  return `-d ${vsArgs(vs)} -r ${joinHostPort(rs.address, rs.port)}`;
}

/** The whole table in `ipvsadm -S -n` form. */
export function renderSave(services: readonly VirtualService[]): string {
  const lines: string[] = [];
  for (const vs of services) {
    lines.push(addService(vs));
    for (const rs of vs.realServers) lines.push(addRealServer(vs, rs));
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

const PROTO: Record<string, IpvsProtocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

function splitHostPort(s: string): { address: string; port: number } | null {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return m ? { address: m[1], port: Number(m[2]) } : null;
}

/**
 * Parses `ipvsadm -L -n`:
 *   TCP  10.96.0.10:80 rr persistent 10800
 *     -> 10.244.1.11:8080             Masq    1      0          0
 * Firewall-mark services are skipped (kproxy creates none).
 */
export function parseList(text: string): KernelVirtualService[] {
  const out: KernelVirtualService[] = [];
  let cur: KernelVirtualService | null = null;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === '->') {
      if (!cur) continue;
      const hp = splitHostPort(f[1]);
      if (!hp) continue; // the header line "-> RemoteAddress:Port ..."
      cur.realServers.push({ ...hp, weight: Number(f[3]), activeConns: Number(f[4]), inactiveConns: Number(f[5]) });
      continue;
    }
    const proto = PROTO[f[0]];
    if (!proto) {
      cur = null;
      continue;
    }
    const hp = splitHostPort(f[1]);
    if (!hp) {
      cur = null;
      continue;
    }
    const p = f.indexOf('persistent');
    cur = { protocol: proto, ...hp, scheduler: f[2], persistenceSeconds: p > 0 ? Number(f[p + 1]) : 0, realServers: [] };
    out.push(cur);
  }
  return out;
}
