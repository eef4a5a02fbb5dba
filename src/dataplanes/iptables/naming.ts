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

function base32Prefix(bytes: Uint8Array, chars: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
      if (out.length === chars) return out;
    }
  }
  return out;
}

// One-shot crypto.hash (Node ≥ 20.12) costs about half of createHash().update().digest(), and a
// full sync hashes once per endpoint: 100,000 times at 10,000 Services × 10 endpoints.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;
const sha256 = oneShot ? (text: string) => oneShot('sha256', text, 'buffer') : (text: string) => crypto.createHash('sha256').update(text).digest();

/** First 16 characters of base32(sha256(text)). */
export function hash16(text: string): string {
  return base32Prefix(sha256(text), 16);
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
  const h = hash16(sp.servicePortName + sp.protocol.toLowerCase());
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

export function endpointChain(sp: Pick<ServicePortState, 'servicePortName' | 'protocol'>, ep: Pick<Endpoint, 'endpoint'>): string {
  return `KUBE-SEP-${hash16(sp.servicePortName + sp.protocol.toLowerCase() + ep.endpoint)}`;
}

/** The per-service chains kproxy creates and may delete (everything else KUBE-* is static). */
export function isServiceChain(name: string): boolean {
  return /^KUBE-(SVC|SVL|EXT|FW|SEP)-[A-Z2-7]{16}$/.test(name);
}
