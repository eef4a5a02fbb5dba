// Chain names as kube-proxy's iptables mode spells them, so that `iptables-save` of kproxy
// reads like upstream's:
//   H = first 16 chars of base32(sha256(servicePortName + proto))       KUBE-SVC-H, KUBE-SVL-H,
//                                                                       KUBE-EXT-H, KUBE-FW-H
//   E = first 16 chars of base32(sha256(servicePortName + proto + ip:port))   KUBE-SEP-E
// servicePortName is "ns/name:portName" ("ns/name" for an unnamed port), proto lower case,
// the endpoint "ip:port" ("[ip]:port" for IPv6). Every name stays within iptables' 28 chars.
import type { Endpoint, ServicePortState } from '../../model/types.js';
import { base32Name, sha256Latin1 } from '../../util/sha256-base32.js';

/** kube-proxy's iptables chain names keep 16 base32 characters of the digest. */
const HASH_CHARS = 16;
const named = (prefix: string, digest: string) => base32Name(prefix, digest, HASH_CHARS);

/** First 16 characters of base32(sha256(text)). */
export function hash16(text: string): string {
  return named('', sha256Latin1(text));
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
  const digest = sha256Latin1(sp.servicePortName + sp.protocol.toLowerCase());
  return { svc: named('KUBE-SVC-', digest), svl: named('KUBE-SVL-', digest), ext: named('KUBE-EXT-', digest), fw: named('KUBE-FW-', digest) };
}

export function endpointChain(sp: Pick<ServicePortState, 'servicePortName' | 'protocol'>, ep: Pick<Endpoint, 'endpoint'>): string {
  return named('KUBE-SEP-', sha256Latin1(sp.servicePortName + sp.protocol.toLowerCase() + ep.endpoint));
}

/** One service port's chain names: its own, and those of its endpoints. */
export interface PortChainNames {
  chains: ServiceChains;
  endpoint(ep: Pick<Endpoint, 'endpoint'>): string;
}

/** One port's names without the applier's cache (`kproxy rules`, the /rules page): each endpoint's is hashed once per compile. */
export function portChainNames(sp: Pick<ServicePortState, 'servicePortName' | 'protocol'>): PortChainNames {
  const endpoints = new Map<string, string>();
  return {
    chains: serviceChains(sp),
    endpoint(ep) {
      let name = endpoints.get(ep.endpoint);
      if (name === undefined) endpoints.set(ep.endpoint, (name = endpointChain(sp, ep)));
      return name;
    },
  };
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
