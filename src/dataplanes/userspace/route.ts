// What a listener serves: one service port's balancer and which of its endpoint sets.
// A listener keeps its socket when only its route changes (new endpoints, new scheduler).
import ipaddr from 'ipaddr.js';
import type { ServiceBalancer, TrafficKind } from './balancer.js';

export interface Route {
  balancer: ServiceBalancer;
  kind: TrafficKind;
  /** Parsed loadBalancerSourceRanges; empty = every client. */
  sourceRanges: [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export function parseRanges(cidrs: readonly string[]): Route['sourceRanges'] {
  return cidrs.map((c) => ipaddr.parseCIDR(c));
}

export function allowedSource(route: Route, clientIP: string): boolean {
  if (route.sourceRanges.length === 0) return true;
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.process(clientIP);
  } catch {
    return false;
  }
  return route.sourceRanges.some(([net, bits]) => a.kind() === net.kind() && a.match(net, bits));
}
