// The byte layouts of the ebpf mode's maps, shared by the programs (programs.ts), the applier
// and the decoder behind `kproxy rules` / `kproxy trace`. Addresses and ports are in network
// byte order exactly as struct bpf_sock_addr holds them (the port is a u16 in the low-address
// half of a u32); ids, counts and times are host order (little-endian). One set of maps per
// IP family; A = 4 (IPv4) or 16 (IPv6) address bytes.
//
//   services  HASH  {addr A, port 2, proto 1, pad 1}          → {svc_id, set_id, count, affinity_s, flags} (u32 each)
//                   (port 0, proto 0: the ClusterIP on any other port: refused)
//   backends  HASH  {set_id u32, slot u32}                    → {addr A, port 2, pad 2}
//   members   HASH  {set_id u32, addr A, port 2, pad 2}       → {slot u32}     (only sets of Services with ClientIP affinity)
//   affinity  LRU   {netns_cookie u64, svc_id u32, pad u32}   → {last_used_ns u64, addr A, port 2, pad 2}
//   revnat    LRU   {socket_cookie u64, addr A, port 2, pad 2} → {addr A, port 2, proto 1, pad 1} (the Service key)
//
// A Service's backends live under a set id; an endpoint change writes a new set and then
// switches the Service to it in one element update, so no reader ever sees an empty or
// half-written set.
import { parseIP, type IPFamily } from '../../api/ip.js';
import type { MapSpec } from '../../bpf/map.js';
import ipaddr from 'ipaddr.js';

export type Family = '4' | '6';
export const FAMILIES: readonly Family[] = ['4', '6'];
export const familyOf = (f: IPFamily): Family => (f === 'IPv4' ? '4' : '6');
export const addrLen = (f: Family): number => (f === '4' ? 4 : 16);

/** ANY: the element for a ClusterIP's other ports (port 0, protocol 0): connect() is refused, as upstream rejects them. */
export const PROTO = { TCP: 6, UDP: 17, SCTP: 132, ANY: 0 } as const;
export type ProtoName = keyof typeof PROTO;

/** Service value flags: what a connect() to a Service with no backends gets. */
export const FLAG_REJECT = 1; // ECONNREFUSED at once
export const FLAG_DROP = 2; // refused with EPERM: a socket hook cannot make packets vanish

export const SVC_VALUE = 20;
export const BE_KEY = 8;
export const AFF_KEY = 16;
export const svcKeySize = (f: Family) => addrLen(f) + 4;
export const beValueSize = (f: Family) => addrLen(f) + 4;
export const memKeySize = (f: Family) => 4 + addrLen(f) + 4;
export const affValueSize = (f: Family) => 8 + addrLen(f) + 4;
export const revKeySize = (f: Family) => 8 + addrLen(f) + 4;

export const MAX_SERVICES = 65536;
export const MAX_BACKENDS = 1 << 20;
export const MAX_AFFINITY = 65536;
export const MAX_REVNAT = 262144;

export type MapRole = 'services' | 'backends' | 'members' | 'affinity' | 'revnat';
export const MAP_ROLES: readonly MapRole[] = ['services', 'backends', 'members', 'affinity', 'revnat'];

const SHORT: Record<MapRole, string> = { services: 'svc', backends: 'be', members: 'mem', affinity: 'aff', revnat: 'rev' };
/** The map's kernel name (≤ 15 characters) and pin file name. */
export const mapName = (role: MapRole, f: Family): string => `kproxy_${SHORT[role]}${f}`;

/** BPF_F_NO_PREALLOC: hash maps take memory per element, not max_entries × element up front. */
const NO_PREALLOC = 1;

export function mapSpec(role: MapRole, f: Family): MapSpec {
  const name = mapName(role, f);
  switch (role) {
    case 'services':
      return { name, type: 'HASH', keySize: svcKeySize(f), valueSize: SVC_VALUE, maxEntries: MAX_SERVICES, flags: NO_PREALLOC };
    case 'backends':
      return { name, type: 'HASH', keySize: BE_KEY, valueSize: beValueSize(f), maxEntries: MAX_BACKENDS, flags: NO_PREALLOC };
    case 'members':
      return { name, type: 'HASH', keySize: memKeySize(f), valueSize: 4, maxEntries: MAX_BACKENDS, flags: NO_PREALLOC };
    case 'affinity':
      return { name, type: 'LRU_HASH', keySize: AFF_KEY, valueSize: affValueSize(f), maxEntries: MAX_AFFINITY };
    case 'revnat':
      return { name, type: 'LRU_HASH', keySize: revKeySize(f), valueSize: svcKeySize(f), maxEntries: MAX_REVNAT };
  }
}

// ---- encoders / decoders -------------------------------------------------------------------

/** Writes an address (network order) at `at`. IPv4 is parsed by hand: it is the hot path of a full load. */
export function writeAddr(b: Buffer, at: number, ip: string, f: Family): void {
  if (f === '4') {
    let part = 0;
    let n = 0;
    let digits = 0;
    for (let i = 0; i <= ip.length; i++) {
      const c = i < ip.length ? ip.charCodeAt(i) : 46;
      if (c === 46) {
        if (digits === 0 || n > 255 || part > 3) throw new Error(`${ip} is not an IPv4 address`);
        b[at + part++] = n;
        n = 0;
        digits = 0;
      } else if (c >= 48 && c <= 57) {
        n = n * 10 + c - 48;
        digits++;
      } else throw new Error(`${ip} is not an IPv4 address`);
    }
    if (part !== 4) throw new Error(`${ip} is not an IPv4 address`);
    return;
  }
  const p = parseIP(ip);
  if (!p || p.family !== 'IPv6') throw new Error(`${ip} is not an IPv6 address`);
  Buffer.from(ipaddr.parse(p.ip).toByteArray()).copy(b, at);
}

export function addrText(b: Buffer, f: Family): string {
  return ipaddr.fromByteArray([...b.subarray(0, addrLen(f))]).toString();
}

/** {addr, port (net order), extra byte, pad} at `at`: the Service key, a backend value, a revnat value. */
export function writeAddrPort(b: Buffer, at: number, ip: string, port: number, f: Family, extra = 0): void {
  const A = addrLen(f);
  writeAddr(b, at, ip, f);
  b.writeUInt16BE(port, at + A);
  b[at + A + 2] = extra;
  b[at + A + 3] = 0;
}

export function addrPort(ip: string, port: number, f: Family, extra = 0): Buffer {
  const b = Buffer.alloc(addrLen(f) + 4);
  writeAddrPort(b, 0, ip, port, f, extra);
  return b;
}

export function readAddrPort(b: Buffer, f: Family, at = 0): { ip: string; port: number; extra: number } {
  const A = addrLen(f);
  return { ip: addrText(b.subarray(at, at + A), f), port: b.readUInt16BE(at + A), extra: b.readUInt8(at + A + 2) };
}

export const svcKey = (ip: string, port: number, proto: ProtoName, f: Family): Buffer => addrPort(ip, port, f, PROTO[proto]);

export interface SvcValue {
  svcId: number;
  setId: number;
  count: number;
  affinitySeconds: number;
  flags: number;
}

export function writeSvcValue(b: Buffer, at: number, v: SvcValue): void {
  b.writeUInt32LE(v.svcId, at);
  b.writeUInt32LE(v.setId, at + 4);
  b.writeUInt32LE(v.count, at + 8);
  b.writeUInt32LE(v.affinitySeconds, at + 12);
  b.writeUInt32LE(v.flags, at + 16);
}

export function svcValue(v: SvcValue): Buffer {
  const b = Buffer.alloc(SVC_VALUE);
  writeSvcValue(b, 0, v);
  return b;
}

export const readSvcValue = (b: Buffer): SvcValue => ({
  svcId: b.readUInt32LE(0),
  setId: b.readUInt32LE(4),
  count: b.readUInt32LE(8),
  affinitySeconds: b.readUInt32LE(12),
  flags: b.readUInt32LE(16),
});

export function beKey(setId: number, slot: number): Buffer {
  const b = Buffer.alloc(BE_KEY);
  b.writeUInt32LE(setId, 0);
  b.writeUInt32LE(slot, 4);
  return b;
}

export function memKey(setId: number, ip: string, port: number, f: Family): Buffer {
  const b = Buffer.alloc(memKeySize(f));
  b.writeUInt32LE(setId, 0);
  writeAddrPort(b, 4, ip, port, f);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

export const protoName = (n: number): ProtoName | null => (Object.entries(PROTO).find(([, v]) => v === n)?.[0] as ProtoName) ?? null;
