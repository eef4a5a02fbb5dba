// The result of tracing one packet, shared by every ruleset interpreter (nft text today,
// iptables-save text later): the interpreter produces outcomes, one per combination of random
// choices, each with its exact probability and the story of how the packet got there.
import type { Fraction } from './fraction.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** The first packet of a new connection. */
export interface Packet {
  family: 'IPv4' | 'IPv6';
  protocol: Protocol;
  src: string; // canonical address
  dst: string;
  dport: number;
  sport: number;
}

export type Verdict = 'DNAT' | 'ACCEPT' | 'REJECT' | 'DROP' | 'NONE';

/** One rule the packet hit, as the JSON contract names it. */
export interface PathStep {
  table: string;
  chain: string;
  rule: string;
}

/** A line of the packet's story. `step` is set for the rules it hit. */
export interface TraceEvent {
  depth: number;
  text: string;
  step?: PathStep;
}

/** One possible fate of the packet. */
export interface Outcome {
  probability: Fraction;
  verdict: Verdict;
  /** Where DNAT sent the packet (verdict DNAT). */
  endpoint: { ip: string; port: number } | null;
  masquerade: boolean;
  events: TraceEvent[];
}

export interface TraceResult {
  packet: Packet;
  /** Facts about the walk that hold for every outcome (first-connection semantics, ...). */
  notes: string[];
  outcomes: Outcome[];
}

export interface TraceJSON {
  verdict: Verdict;
  endpoints: { ip: string; port: number; probability: number }[];
  masquerade: boolean;
  path: PathStep[];
}

const VERDICT_ORDER: Verdict[] = ['DNAT', 'REJECT', 'DROP', 'ACCEPT', 'NONE'];

/**
 * The verdict of the trace: the one every outcome shares. Rulesets kproxy writes never mix
 * verdicts across random branches; if a foreign one does, the most probable verdict wins
 * (ties in the order DNAT, REJECT, DROP, ACCEPT, NONE) and the story shows every branch.
 */
export function overallVerdict(r: TraceResult): Verdict {
  const totals = new Map<Verdict, Fraction>();
  for (const o of r.outcomes) totals.set(o.verdict, totals.has(o.verdict) ? totals.get(o.verdict)!.plus(o.probability) : o.probability);
  let best: Verdict = 'NONE';
  let bestP: Fraction | null = null;
  for (const v of VERDICT_ORDER) {
    const p = totals.get(v);
    if (p && (bestP === null || p.compare(bestP) > 0)) [best, bestP] = [v, p];
  }
  return best;
}

/** Endpoints reachable by DNAT, each once, with the total probability of reaching it. */
export function endpointsOf(r: TraceResult): { ip: string; port: number; probability: Fraction }[] {
  const byKey = new Map<string, { ip: string; port: number; probability: Fraction }>();
  for (const o of r.outcomes) {
    if (o.verdict !== 'DNAT' || !o.endpoint) continue;
    const key = `${o.endpoint.ip}|${o.endpoint.port}`;
    const seen = byKey.get(key);
    if (seen) seen.probability = seen.probability.plus(o.probability);
    else byKey.set(key, { ...o.endpoint, probability: o.probability });
  }
  return [...byKey.values()];
}

/** Every rule hit on any branch, each once, in the order the walk first hit it. */
export function pathOf(r: TraceResult): PathStep[] {
  const seen = new Set<string>();
  const out: PathStep[] = [];
  for (const o of r.outcomes) {
    for (const e of o.events) {
      if (!e.step) continue;
      const key = `${e.step.table}\u0000${e.step.chain}\u0000${e.step.rule}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(e.step);
    }
  }
  return out;
}

/** The JSON form of DESIGN.md's command-line contract. */
export function traceJSON(r: TraceResult): TraceJSON {
  return {
    verdict: overallVerdict(r),
    endpoints: endpointsOf(r).map((e) => ({ ip: e.ip, port: e.port, probability: e.probability.toNumber() })),
    masquerade: r.outcomes.some((o) => o.masquerade),
    path: pathOf(r),
  };
}
