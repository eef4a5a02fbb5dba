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
import type { Endpoint, ServicePortState } from '../../model/types.js';
import { base32Name, sha256Latin1 } from '../../util/sha256-base32.js';
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

/** First 8 characters of base32(sha256(name)): exactly the first 40 bits. */
export const hash8 = (name: string): string => base32Name('', sha256Latin1(name), 8);

const MAX_BASE = 240;

/** "H8-name", cut to 240 characters when longer. */
export function hashedName(name: string): string {
  const full = cat(hash8(name), '-', name);
  return full.length > MAX_BASE ? cat(full.slice(0, MAX_BASE - 3), '...') : full;
}

const LOWER = new Map([
  ['TCP', 'tcp'],
  ['UDP', 'udp'],
  ['SCTP', 'sctp'],
]);

/** "ns/name/proto/portName" of a service port (portName may be empty). */
export function servicePortNftName(sp: Pick<ServicePortState, 'namespace' | 'name' | 'protocol' | 'portName'>): string {
  return cat(sp.namespace, '/', sp.name, '/', LOWER.get(sp.protocol) ?? sp.protocol.toLowerCase(), '/', sp.portName);
}

/** The base of every per-service-port chain. */
export function serviceBase(sp: Pick<ServicePortState, 'namespace' | 'name' | 'protocol' | 'portName'>): string {
  return hashedName(servicePortNftName(sp));
}

/** The base of an endpoint's chain and affinity set: name + "__ip/port", IPv6 colons as dots. */
export function endpointBase(sp: Pick<ServicePortState, 'namespace' | 'name' | 'protocol' | 'portName'>, ep: Pick<Endpoint, 'ip' | 'port'>): string {
  return hashedName(`${servicePortNftName(sp)}__${ep.ip.replaceAll(':', '.')}/${ep.port}`);
}

/**
 * A service port's chain names, each made when first asked for: most ports use one or two
 * of the four, and the hashed base is only computed if one is used.
 */
export class ChainNames {
  private base?: string;
  private svc?: string;
  private loc?: string;
  private ext?: string;
  private fw?: string;

  constructor(private readonly sp: Pick<ServicePortState, 'namespace' | 'name' | 'protocol' | 'portName'>) {}

  get service(): string {
    return (this.svc ??= cat('service-', this.hashed()));
  }
  get local(): string {
    return (this.loc ??= cat('local-', this.hashed()));
  }
  get external(): string {
    return (this.ext ??= cat('external-', this.hashed()));
  }
  get firewall(): string {
    return (this.fw ??= cat('firewall-', this.hashed()));
  }

  private hashed(): string {
    return (this.base ??= serviceBase(this.sp));
  }
}
