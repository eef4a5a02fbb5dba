// Chain names as kube-proxy's iptables mode spells them, so that `iptables-save` of kproxy
// reads like upstream's:
//   H = first 16 chars of base32(sha256(servicePortName + proto))       KUBE-SVC-H, KUBE-SVL-H,
//                                                                       KUBE-EXT-H, KUBE-FW-H
//   E = first 16 chars of base32(sha256(servicePortName + proto + ip:port))   KUBE-SEP-E
// servicePortName is "ns/name:portName" ("ns/name" for an unnamed port), proto lower case,
// the endpoint "ip:port" ("[ip]:port" for IPv6). Every name stays within iptables' 28 chars.
import * as crypto from 'node:crypto';
import type { Endpoint, ServicePortState } from '../../model/types.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Character code → its 6-bit value in base64. */
const SIXBITS = new Uint8Array(128);
for (let i = 0; i < 64; i++) SIXBITS[BASE64.charCodeAt(i)] = i;

// A full sync hashes once per endpoint: 100,000 times at 10,000 Services × 10 endpoints. The
// digest is asked for as base64 text and re-cut into base32 here: a Buffer per digest (the
// object, not the hashing) cost about twice the hash itself. One-shot crypto.hash is Node ≥ 20.12.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
const sha256base64 = oneShot ? (text: string) => oneShot('sha256', text, 'base64') : (text: string) => crypto.createHash('sha256').update(text).digest('base64');

/** The first 16 characters of base32(sha256(text)): 80 bits, from the digest's first 14 base64 characters (84 bits). */
function base32Of(digest: string, into: number[], from: number): void {
  let value = 0;
  let bits = 0;
  let at = from;
  const end = from + 16;
  for (let i = 0; at < end; i++) {
    value = ((value << 6) | SIXBITS[digest.charCodeAt(i)]) & 0xfff;
    bits += 6;
    while (bits >= 5 && at < end) {
      bits -= 5;
      into[at++] = BASE32.charCodeAt((value >>> bits) & 31);
    }
  }
}

// Each name is built as one flat string: with `+=` or `prefix + hash`, each of the 100,000
// endpoint chain names at 10,000 Services was a tree of short strings, walked again by every
// Map, Set and join that met it.
const codes: number[] = [];

/** `prefix` followed by the first 16 characters of base32 of `digest` (base64), as one flat string. */
function named(prefix: string, digest: string): string {
  codes.length = prefix.length + 16;
  for (let i = 0; i < prefix.length; i++) codes[i] = prefix.charCodeAt(i);
  base32Of(digest, codes, prefix.length);
  return String.fromCharCode.apply(null, codes);
}

/** First 16 characters of base32(sha256(text)). */
export function hash16(text: string): string {
  return named('', sha256base64(text));
}

export interface ServiceChains {
  /** Cluster-policy endpoints. */
  svc: string;
  /** Local-policy endpoints. */
  svl: string;
  /** External destinations (NodePort, externalIPs, LB IPs). */
  ext: string;
  /** loadBalancerSourceRanges. */
  fw: string;
}

export function serviceChains(sp: Pick<ServicePortState, 'servicePortName' | 'protocol'>): ServiceChains {
  const digest = sha256base64(sp.servicePortName + sp.protocol.toLowerCase());
  return { svc: named('KUBE-SVC-', digest), svl: named('KUBE-SVL-', digest), ext: named('KUBE-EXT-', digest), fw: named('KUBE-FW-', digest) };
}

export function endpointChain(sp: Pick<ServicePortState, 'servicePortName' | 'protocol'>, ep: Pick<Endpoint, 'endpoint'>): string {
  return named('KUBE-SEP-', sha256base64(sp.servicePortName + sp.protocol.toLowerCase() + ep.endpoint));
}

/** One service port's chain names: its own, and those of its endpoints. */
export interface PortChainNames {
  chains: ServiceChains;
  endpoint(ep: Pick<Endpoint, 'endpoint'>): string;
}

interface CachedPort extends PortChainNames {
  endpoints: Map<string, string>;
  /** The names the previous generation knew, read while a full sync runs. */
  was: Map<string, string> | undefined;
}

/**
 * Chain names kept from one sync to the next, so that the full sync every syncPeriod does not
 * hash every endpoint again (100,000 sha256 at 10,000 Services × 10). Keyed by what is hashed
 * (service port name, protocol, endpoint). Each full sync keeps only the names it asked for,
 * so the cache holds the names of live objects plus those partial syncs added since.
 */
export class ChainNames {
  private live = new Map<string, CachedPort>();
  private old: Map<string, CachedPort> | null = null;

  /** A full sync starts: names it does not ask for are forgotten when it ends. */
  startFull(): void {
    this.old = this.live;
    this.live = new Map();
  }

  endFull(): void {
    this.old = null;
    for (const p of this.live.values()) p.was = undefined;
  }

  port(sp: Pick<ServicePortState, 'servicePortName' | 'protocol'>): PortChainNames {
    const key = sp.servicePortName + ' ' + sp.protocol;
    let p = this.live.get(key);
    if (p === undefined) {
      const was = this.old?.get(key);
      const endpoints = new Map<string, string>();
      const cached: CachedPort = {
        chains: was?.chains ?? serviceChains(sp),
        endpoints,
        was: was?.endpoints,
        endpoint: (ep) => {
          let name = endpoints.get(ep.endpoint);
          if (name === undefined) endpoints.set(ep.endpoint, (name = cached.was?.get(ep.endpoint) ?? endpointChain(sp, ep)));
          return name;
        },
      };
      this.live.set(key, (p = cached));
    }
    return p;
  }
}

/** The per-service chains kproxy creates and may delete (everything else KUBE-* is static). */
export function isServiceChain(name: string): boolean {
  return /^KUBE-(SVC|SVL|EXT|FW|SEP)-[A-Z2-7]{16}$/.test(name);
}
