// nft datatypes: how literal text becomes a value the evaluator can compare, and back.
// Addresses and integers up to 32 bits are numbers, IPv6 addresses are bigints, interface
// names are strings. A literal that is not of the expected type is an error, never a guess.
import { ipv4ToNumber } from '../../api/ip.js';
import ipaddr from 'ipaddr.js';

export type Value = number | bigint | string;

export interface Datatype {
  readonly name: string;
  parse(text: string): Value | null;
  format(v: Value): string;
  /** Address types: width in bits, for prefixes. */
  readonly bits?: number;
  /** Flag types (ct state, ct status): a bare value on the right means "this bit is set". */
  readonly bitmask?: boolean;
}

function parseUint(text: string, max: number): number | null {
  if (/^0x[0-9a-f]+$/i.test(text)) {
    const v = parseInt(text, 16);
    return v <= max ? v : null;
  }
  if (/^\d+$/.test(text)) {
    const v = parseInt(text, 10);
    return v <= max ? v : null;
  }
  return null;
}

/** Dotted-quad IPv4 as a 32-bit number (the model's own parser), or null. */
export function parseIPv4(text: string): number | null {
  const v = ipv4ToNumber(text);
  return v < 0 ? null : v;
}

export function formatIPv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function parseIPv6(text: string): bigint | null {
  if (!text.includes(':') || !ipaddr.IPv6.isValid(text)) return null;
  let v = 0n;
  for (const b of ipaddr.IPv6.parse(text).toByteArray()) v = (v << 8n) | BigInt(b);
  return v;
}

export function formatIPv6(v: bigint): string {
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((v >> BigInt(i * 8)) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
}

function symbolic(name: string, symbols: Record<string, number>, max: number, bitmask = false): Datatype {
  const names = new Map(Object.entries(symbols).map(([k, v]) => [v, k]));
  return {
    name,
    bitmask,
    parse: (t) => symbols[t] ?? parseUint(t, max),
    format: (v) => names.get(v as number) ?? String(v),
  };
}

const uint = (name: string, max: number): Datatype => ({ name, parse: (t) => parseUint(t, max), format: (v) => String(v) });

export const IPV4: Datatype = { name: 'ipv4_addr', bits: 32, parse: parseIPv4, format: (v) => formatIPv4(v as number) };
export const IPV6: Datatype = { name: 'ipv6_addr', bits: 128, parse: parseIPv6, format: (v) => formatIPv6(v as bigint) };
export const INET_SERVICE: Datatype = { name: 'inet_service', parse: (t) => parseUint(t, 65535), format: (v) => String(v) };
export const INET_PROTO: Datatype = symbolic('inet_proto', { icmp: 1, tcp: 6, udp: 17, dccp: 33, ipv6_icmp: 58, icmpv6: 58, sctp: 132, udplite: 136 }, 255);
export const MARK: Datatype = uint('mark', 0xffffffff);
export const INTEGER: Datatype = uint('integer', 0xffffffff);
export const NF_PROTO: Datatype = symbolic('nf_proto', { ipv4: 2, ipv6: 10 }, 255);
export const CT_STATE: Datatype = symbolic('ct_state', { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 }, 0xffffffff, true);
export const CT_STATUS: Datatype = symbolic('ct_status', { expected: 1, 'seen-reply': 2, assured: 4, confirmed: 8, snat: 16, dnat: 32, dying: 512 }, 0xffffffff, true);
export const FIB_ADDRTYPE: Datatype = symbolic('fib_addrtype', { unspec: 0, unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8 }, 255);
export const IFNAME: Datatype = { name: 'ifname', parse: (t) => (t.length > 0 && t.length < 16 ? t : null), format: (v) => String(v) };

/** Types that `type a . b` declarations of sets and maps may name. */
export const NAMED_TYPES: Record<string, Datatype> = {
  ipv4_addr: IPV4,
  ipv6_addr: IPV6,
  inet_service: INET_SERVICE,
  inet_proto: INET_PROTO,
  mark: MARK,
  integer: INTEGER,
  ifname: IFNAME,
  ct_state: CT_STATE,
  ct_status: CT_STATUS,
  fib_addrtype: FIB_ADDRTYPE,
  nf_proto: NF_PROTO,
};

/** A literal: one value (lo === hi), a prefix or a range. */
export interface Interval {
  lo: Value;
  hi: Value;
}

/** Parses one literal of type dt; prefixes and ranges are allowed for ordered types. Returns null when invalid. */
export function parseLiteral(dt: Datatype, text: string): Interval | null {
  const v = dt.parse(text);
  if (v !== null) return { lo: v, hi: v };
  if (dt === IFNAME || dt.bitmask) return null;
  const slash = text.indexOf('/');
  if (slash > 0 && dt.bits) {
    const base = dt.parse(text.slice(0, slash));
    const len = /^\d+$/.test(text.slice(slash + 1)) ? parseInt(text.slice(slash + 1), 10) : -1;
    if (base === null || len < 0 || len > dt.bits) return null;
    if (dt.bits === 32) {
      const size = 2 ** (32 - len);
      const lo = Math.floor((base as number) / size) * size;
      return { lo, hi: lo + size - 1 };
    }
    const host = (1n << BigInt(128 - len)) - 1n;
    const lo = (base as bigint) & ~host & ((1n << 128n) - 1n);
    return { lo, hi: lo | host };
  }
  const dash = text.indexOf('-', 1);
  if (dash > 0) {
    const lo = dt.parse(text.slice(0, dash));
    const hi = dt.parse(text.slice(dash + 1));
    if (lo !== null && hi !== null && lo <= hi) return { lo, hi };
  }
  return null;
}
