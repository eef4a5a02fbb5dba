// Which node announces each LoadBalancer address: the same answer on every node, computed
// from the same objects, with no talk between the nodes.
//
// For each Service with assigned addresses and at least one L2Advertisement that applies to
// its pool (and whose serviceSelectors admit it):
//   candidates = eligible nodes (nodes.ts) matching the nodeSelectors of one of those
//                advertisements; with externalTrafficPolicy Local, only those that also host
//                an endpoint that can serve (ready, or serving while terminating);
//   winner     = the candidate whose SHA-256 of "<node>#<first address>" is lowest, as
//                MetalLB's layer-2 speakers sort them (so both pick the same node for the
//                same objects). A Service without any endpoint that can serve is announced
//                by nobody, as in MetalLB.
// The result is a plain table (address → node, interfaces): the layer-2 responder acts on
// this node's rows; a BGP speaker could act on the same table later.
import { createHash } from 'node:crypto';
import type { EndpointSlice } from '../api/types.js';
import type { IPAddressPool, L2Advertisement } from './config.js';
import { ineligibleReason, type LeaseFacts, type NodeFacts } from './nodes.js';
import { anySelectorMatches } from './selector.js';
import type { Service } from '../api/types.js';

export interface AnnouncedService {
  id: string;
  svc: Service;
  /** Addresses from status.loadBalancer.ingress, first one decides the winner. */
  ips: string[];
  /** The pool the addresses come from ("" when no pool holds them: not announced). */
  pool: string;
}

export interface Announcement {
  ip: string;
  services: string[]; // "ns/name", sorted
  pool: string;
  /** The announcing node, or null with a reason when nobody announces. */
  node: string | null;
  reason: string;
  /** Interfaces the announcing node answers on ([] = every interface). */
  interfaces: string[];
}

export interface AnnounceInput {
  services: readonly AnnouncedService[];
  pools: ReadonlyMap<string, IPAddressPool>;
  advertisements: readonly L2Advertisement[];
  nodes: ReadonlyMap<string, NodeFacts>;
  leases: ReadonlyMap<string, LeaseFacts>;
  slices: (serviceId: string) => readonly EndpointSlice[];
  now: number;
}

export function nodeOrder(nodes: readonly string[], ip: string): string[] {
  const key = (n: string) => createHash('sha256').update(`${n}#${ip}`).digest();
  return nodes
    .map((n) => ({ n, k: key(n) }))
    .sort((a, b) => Buffer.compare(a.k, b.k))
    .map((x) => x.n);
}

export function advertisementsFor(ads: readonly L2Advertisement[], pool: IPAddressPool, svc: Service): L2Advertisement[] {
  return ads.filter((ad) => {
    const all = ad.ipAddressPools.length === 0 && ad.ipAddressPoolSelectors.length === 0;
    const byName = ad.ipAddressPools.includes(pool.name);
    const bySelector = ad.ipAddressPoolSelectors.length > 0 && anySelectorMatches(ad.ipAddressPoolSelectors, pool.labels);
    return (all || byName || bySelector) && anySelectorMatches(ad.serviceSelectors, svc.labels);
  });
}

/** Endpoints that can serve, as MetalLB counts them: ready (or unset), or serving. */
function servingNodes(slices: readonly EndpointSlice[]): Set<string> {
  const nodes = new Set<string>();
  for (const s of slices) for (const e of s.endpoints) if ((e.conditions.ready || e.conditions.serving) && e.nodeName) nodes.add(e.nodeName);
  return nodes;
}

function anyServing(slices: readonly EndpointSlice[]): boolean {
  return slices.some((s) => s.endpoints.some((e) => e.conditions.ready || e.conditions.serving));
}

export function announcements(input: AnnounceInput): Map<string, Announcement> {
  const out = new Map<string, Announcement>();
  const eligible = [...input.nodes.values()].filter((n) => ineligibleReason(n, input.leases.get(n.name), input.now) === null);
  for (const s of [...input.services].sort((a, b) => a.id.localeCompare(b.id))) {
    if (s.ips.length === 0) continue;
    const pool = input.pools.get(s.pool);
    const add = (node: string | null, reason: string, interfaces: string[]) => {
      for (const ip of s.ips) {
        const prev = out.get(ip);
        // A shared address: the first Service (by name) decides; the others are listed.
        if (prev) prev.services.push(s.id);
        else out.set(ip, { ip, services: [s.id], pool: s.pool, node, reason, interfaces });
      }
    };
    if (!pool) {
      add(null, 'the address is in no IPAddressPool', []);
      continue;
    }
    const ads = advertisementsFor(input.advertisements, pool, s.svc);
    if (ads.length === 0) {
      add(null, `no L2Advertisement covers IPAddressPool ${pool.name}`, []);
      continue;
    }
    const slices = input.slices(s.id);
    if (!anyServing(slices)) {
      add(null, 'no endpoint can serve', []);
      continue;
    }
    let candidates = eligible.filter((n) => ads.some((ad) => anySelectorMatches(ad.nodeSelectors, n.labels)));
    if (s.svc.externalTrafficPolicy === 'Local') {
      const local = servingNodes(slices);
      candidates = candidates.filter((n) => local.has(n.name));
    }
    if (candidates.length === 0) {
      add(null, s.svc.externalTrafficPolicy === 'Local' ? 'no eligible node has a serving endpoint (externalTrafficPolicy Local)' : 'no eligible node matches the L2Advertisements', []);
      continue;
    }
    const winner = nodeOrder(
      candidates.map((n) => n.name),
      s.ips[0],
    )[0];
    const facts = input.nodes.get(winner)!;
    const mine = ads.filter((ad) => anySelectorMatches(ad.nodeSelectors, facts.labels));
    // Any advertisement without interfaces means every interface.
    const interfaces = mine.some((ad) => ad.interfaces.length === 0) ? [] : [...new Set(mine.flatMap((ad) => ad.interfaces))].sort();
    add(winner, '', interfaces);
  }
  for (const a of out.values()) a.services.sort();
  return out;
}

/** The earliest future moment a Lease expires (the table must be recomputed then), or null. */
export function nextLeaseExpiry(leases: ReadonlyMap<string, LeaseFacts>, now: number): number | null {
  let next: number | null = null;
  for (const l of leases.values()) if (l.expiresAt !== null && l.expiresAt > now && (next === null || l.expiresAt < next)) next = l.expiresAt;
  return next;
}
