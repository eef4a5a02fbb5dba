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
  return route.sourceRanges.length === 0 || inRanges(route.sourceRanges, clientIP);
}

export function inRanges(ranges: Route['sourceRanges'], ip: string): boolean {
  if (ranges.length === 0) return false;
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.process(ip);
  } catch {
    return false;
  }
  return ranges.some(([net, bits]) => a.kind() === net.kind() && a.match(net, bits));
}
