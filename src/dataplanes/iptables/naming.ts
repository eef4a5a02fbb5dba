// Chain names as kube-proxy's iptables mode spells them, so that `iptables-save` of kproxy
// reads like upstream's:
//   H = first 16 chars of base32(sha256(servicePortName + proto))       KUBE-SVC-H, KUBE-SVL-H,
//                                                                       KUBE-EXT-H, KUBE-FW-H
//   E = first 16 chars of base32(sha256(servicePortName + proto + ip:port))   KUBE-SEP-E
// servicePortName is "ns/name:portName" ("ns/name" for an unnamed port), proto lower case,
// the endpoint "ip:port" ("[ip]:port" for IPv6). Every name stays within iptables' 28 chars.
import * as crypto from 'node:crypto';
import type { Endpoint, ServicePortState } from '../../model/types.js';

const BASE32 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 'latin1');

// Names are written here and read back as one flat string each: built with `+=` and a
// template, each of the 100,000 endpoint chain names at 10,000 Services was a tree of short
// strings, walked again by every Map, Set and join that met it.
const scratch = Buffer.alloc(64);

/** `prefix` followed by the first 16 characters of base32(bytes), as one flat string. */
function named(prefix: string, bytes: Uint8Array): string {
  let at = scratch.write(prefix, 0, 'latin1');
  const end = at + 16;
  let bits = 0;
  let value = 0;
  for (let i = 0; at < end; i++) {
    value = ((value << 8) | bytes[i]) & 0xffff;
    bits += 8;
    while (bits >= 5 && at < end) {
      scratch[at++] = BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return scratch.toString('latin1', 0, end);
}

// One-shot crypto.hash (Node ≥ 20.12) costs about half of createHash().update().digest(), and a
// full sync hashes once per endpoint: 100,000 times at 10,000 Services × 10 endpoints.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;
const sha256 = oneShot ? (text: string) => oneShot('sha256', text, 'buffer') : (text: string) => crypto.createHash('sha256').update(text).digest();

/** First 16 characters of base32(sha256(text)). */
export function hash16(text: string): string {
  return named('', sha256(text));
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
  const bytes = sha256(sp.servicePortName + sp.protocol.toLowerCase());
  return { svc: named('KUBE-SVC-', bytes), svl: named('KUBE-SVL-', bytes), ext: named('KUBE-EXT-', bytes), fw: named('KUBE-FW-', bytes) };
}

export function endpointChain(sp: Pick<ServicePortState, 'servicePortName' | 'protocol'>, ep: Pick<Endpoint, 'endpoint'>): string {
  return named('KUBE-SEP-', sha256(sp.servicePortName + sp.protocol.toLowerCase() + ep.endpoint));
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
