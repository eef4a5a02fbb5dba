// What a listener serves: one service port's balancer and which of its endpoint sets.
// A listener keeps its socket when only its route changes (new endpoints, new scheduler).
import type { ServiceBalancer, TrafficKind } from './balancer.js';
import { inRanges, type ParsedRanges } from './cidrs.js';

export { parseRanges } from './cidrs.js';

export interface Route {
  balancer: ServiceBalancer;
  kind: TrafficKind;
  /** Parsed allowed sources (loadBalancerSourceRanges as the model applies them); empty = every client. */
  sourceRanges: ParsedRanges;
}

export function allowedSource(route: Route, clientIP: string): boolean {
  return route.sourceRanges.length === 0 || inRanges(route.sourceRanges, clientIP);
}
