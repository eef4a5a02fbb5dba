// Small non-cryptographic hashes for the hashing schedulers (sh, dh, maglev).
import { isIPv4 } from 'node:net';

/** FNV-1a, 32 bits, over a string's UTF-16 code units. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so that close strings spread over the whole range
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * An address folded to 32 bits as IPVS does before hashing: the IPv4 address itself, or the
 * XOR of the four 32-bit words of an IPv6 address.
 */
export function foldAddress(ip: string): number {
  if (isIPv4(ip)) {
    const p = ip.split('.');
    return ((+p[0] << 24) | (+p[1] << 16) | (+p[2] << 8) | +p[3]) >>> 0;
  }
  return fnv1a(ip); // IPv6 text has many spellings; node always gives the canonical one
}

/** Linux's hash_32(): multiplicative hashing by the golden ratio, top `bits` bits. */
export function hash32(v: number, bits: number): number {
  return (Math.imul(v >>> 0, 0x61c88647) >>> 0) >>> (32 - bits);
}
