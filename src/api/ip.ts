// IP address and CIDR parsing with Kubernetes' tolerance: IPv4 octets may carry leading
// zeros ("010.001.002.003" is 10.1.2.3, decimal, as Go's ParseIPSloppy reads it) and the
// result is always written back in canonical form.
import ipaddr from 'ipaddr.js';

export type IPFamily = 'IPv4' | 'IPv6';

export interface ParsedIP {
  ip: string; // canonical text
  family: IPFamily;
}

export interface ParsedCIDR {
  cidr: string; // canonical network/prefix, e.g. "10.0.0.0/8"
  ip: string; // canonical address part as written (not masked)
  prefix: number;
  family: IPFamily;
}

/**
 * Dotted-quad IPv4 as a 32-bit number, leading zeros read as decimal (Go's ParseIPSloppy);
 * -1 when the text is not one. A hand-written loop: it runs for every endpoint address.
 */
export function ipv4ToNumber(s: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

// Addresses are kept for as long as their objects live (100,000s of them): built with join,
// which gives V8's flat string, where a template literal may leave a tree of pieces.
function numberToIPv4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * Whether a dotted quad that ipv4ToNumber accepted has an octet with a leading zero: the
 * only way its text differs from the canonical one (checked without building that text).
 */
function hasLeadingZero(s: string): boolean {
  for (let i = 0; i + 1 < s.length; i++) {
    if (s.charCodeAt(i) === 48 && (i === 0 || s.charCodeAt(i - 1) === 46) && s.charCodeAt(i + 1) !== 46) return true;
  }
  return false;
}

/** Parses an IP address; returns null when it is not one. */
export function parseIP(text: string): ParsedIP | null {
  const s = text.trim();
  const v4 = ipv4ToNumber(s);
  if (v4 >= 0) {
    // Already canonical (the usual case): keep the caller's string rather than a copy of it.
    return { ip: hasLeadingZero(s) ? numberToIPv4(v4) : s, family: 'IPv4' };
  }
  if (!s.includes(':') || !ipaddr.IPv6.isValid(s)) return null;
  try {
    const addr = ipaddr.IPv6.parse(s);
    if (addr.isIPv4MappedAddress()) return { ip: addr.toIPv4Address().toString(), family: 'IPv4' };
    return { ip: addr.toString(), family: 'IPv6' };
  } catch {
    return null;
  }
}

/** Parses "addr/prefix" (whitespace around it tolerated); returns null when it is not a CIDR. */
export function parseCIDR(text: string): ParsedCIDR | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIP(s.slice(0, slash));
  const prefixText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = parseInt(prefixText, 10);
  if (prefix > (ip.family === 'IPv4' ? 32 : 128)) return null;
  const network = maskAddress(ip.ip, prefix);
  return { cidr: `${network}/${prefix}`, ip: ip.ip, prefix, family: ip.family };
}

function maskAddress(ip: string, prefix: number): string {
  const bytes = ipaddr.parse(ip).toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] &= bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** True when the (canonical) ip lies inside the (canonical) cidr. */
export function cidrContains(cidr: ParsedCIDR, ip: string): boolean {
  const p = parseIP(ip);
  if (!p || p.family !== cidr.family) return false;
  return maskAddress(p.ip, cidr.prefix) === maskAddress(cidr.ip, cidr.prefix);
}

/** "ip:port", with IPv6 in brackets, as Kubernetes prints endpoints. */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? ['[', ip, ']:', port].join('') : [ip, port].join(':');
}

export function isLoopback(ip: string): boolean {
  const p = parseIP(ip);
  if (!p) return false;
  return p.family === 'IPv4' ? p.ip.startsWith('127.') : p.ip === '::1';
}

/** An address as an integer (IPv4 in 32 bits, IPv6 in 128): ranges and offsets. */
export function ipToBigInt(ip: string): bigint {
  let v = 0n;
  for (const b of ipaddr.parse(ip).toByteArray()) v = (v << 8n) | BigInt(b);
  return v;
}

/** The address of an integer in the given family (the inverse of ipToBigInt). */
export function bigIntToIP(v: bigint, family: IPFamily): string {
  if (family === 'IPv4') return numberToIPv4(Number(BigInt.asUintN(32, v))); // its low 32 bits
  const bytes = new Array<number>(16);
  for (let i = 15; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}
