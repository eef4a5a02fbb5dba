// Chain and set names as kube-proxy's nftables mode spells them, so that an operator who
// knows upstream recognises what `nft list table ip kproxy` shows.
//
//   base    = H8 + "-" + ns/name/proto/portName      (H8: first 8 chars of base32(sha256(name)))
//   service-<base>, local-<base>, external-<base>, firewall-<base>
//   endpoint-<ebase>, affinity-<ebase>                (ebase: the same over name + "__ip/port")
//
// IPv6 colons become dots before hashing; names longer than 240 characters are cut to 237
// plus "..." (nft's limit is 256 and the longest prefix is 16), the hash still covering the
// full name.
import * as crypto from 'node:crypto';
import type { Endpoint, ServicePortState } from '../../model/types.js';
import { cat } from './flat.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (upper case, no padding needed for the prefix we keep). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

// crypto.hash (Node 20.12+) hashes in one call, without a Hash object per name.
const sha256: (s: string) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (s) => (crypto as unknown as { hash(alg: string, data: string, enc: 'buffer'): Buffer }).hash('sha256', s, 'buffer')
    : (s) => crypto.createHash('sha256').update(s).digest();

/** First 8 characters of base32(sha256(name)): exactly the first 40 bits. */
export function hash8(name: string): string {
  const d = sha256(name);
  const hi = d[0] * 4 + (d[1] >> 6); // bits 0..9
  const lo = ((d[1] & 63) << 24) | (d[2] << 16) | (d[3] << 8) | d[4]; // bits 10..39
  return BASE32[hi >> 5] + BASE32[hi & 31] + BASE32[(lo >>> 25) & 31] + BASE32[(lo >>> 20) & 31] + BASE32[(lo >>> 15) & 31] + BASE32[(lo >>> 10) & 31] + BASE32[(lo >>> 5) & 31] + BASE32[lo & 31];
}

const MAX_BASE = 240;

/** "H8-name", cut to 240 characters when longer. */
export function hashedName(name: string): string {
  const full = cat(hash8(name), '-', name);
  return full.length > MAX_BASE ? cat(full.slice(0, MAX_BASE - 3), '...') : full;
}

/** "ns/name/proto/portName" of a service port (portName may be empty). */
export function servicePortNftName(sp: Pick<ServicePortState, 'namespace' | 'name' | 'protocol' | 'portName'>): string {
  return `${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.portName}`;
}

/** The base of every per-service-port chain. */
export function serviceBase(sp: Pick<ServicePortState, 'namespace' | 'name' | 'protocol' | 'portName'>): string {
  return hashedName(servicePortNftName(sp));
}

/** The base of an endpoint's chain and affinity set: name + "__ip/port", IPv6 colons as dots. */
export function endpointBase(sp: Pick<ServicePortState, 'namespace' | 'name' | 'protocol' | 'portName'>, ep: Pick<Endpoint, 'ip' | 'port'>): string {
  return hashedName(`${servicePortNftName(sp)}__${ep.ip.replaceAll(':', '.')}/${ep.port}`);
}

export const chainNames = (base: string) => ({
  service: cat('service-', base),
  local: cat('local-', base),
  external: cat('external-', base),
  firewall: cat('firewall-', base),
});
