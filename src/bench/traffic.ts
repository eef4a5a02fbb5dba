// Traffic through whatever is programmed in a bench topology's node namespace, measured by
// the bench client in the client namespace, each figure beside a direct connection to a Pod
// in the same client run (so both see the same moment of the machine's load). The topology
// is the bench's own (topology.ts) or any other with the same addresses that can run the
// client and name its server-side processes (the ipvs guest's lab, bench/ipvs/guest-main.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMs } from './proc.js';
import { round, summarize } from './stats.js';
import { BENCH_ADDR, POD_PORT } from './topology.js';
import type { Traffic } from './types.js';

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), 'client.js');

export interface TrafficPlan {
  /** The first and the last Service (ip:port); the same target twice for a single proxy. */
  first: string;
  last: string;
  /** New connections per target for first-packet latency. */
  connects: number;
  /** Round trips per target on a kept-alive connection. */
  requests: number;
  /** Connections for the CPU-per-connection figure. */
  cpuConnections: number;
  /** The cgroup the client must run in (the ebpf mode's), if any. */
  cgroup?: string;
}

export const DIRECT = `${BENCH_ADDR.pod2}:${POD_PORT}`;

/** Where traffic is measured: a client namespace, Pods behind a node. */
export interface TrafficSite {
  /** Runs argv in the client namespace (in `cgroup` if given) to its end: its stdout. */
  runClient(argv: string[], opts: { cgroup?: string; timeoutMs: number }): Promise<string>;
  /** The processes whose CPU is the server side of a connection: the Pod servers and everything in the node namespace. */
  serverPids(): Promise<number[]>;
}

async function client<T>(topo: TrafficSite, plan: TrafficPlan, args: string[]): Promise<T> {
  const out = await topo.runClient([process.execPath, CLIENT, ...args], { cgroup: plan.cgroup, timeoutMs: 600_000 });
  return JSON.parse(out) as T;
}

/** CPU (ms) of the Pod servers and of everything running in the node namespace. */
async function serverSideCpu(topo: TrafficSite): Promise<number> {
  return (await topo.serverPids()).reduce((s, p) => s + cpuMs(p), 0);
}

async function cpuPerConnection(topo: TrafficSite, plan: TrafficPlan, target: string): Promise<number> {
  const before = await serverSideCpu(topo);
  const r = await client<{ cpuUs: number; n: number }>(topo, plan, ['conns', String(plan.cpuConnections), target]);
  const after = await serverSideCpu(topo);
  return round((r.cpuUs + (after - before) * 1000) / r.n, 1);
}

/**
 * First-packet (TCP connect) latency alone, µs, by target: n new connections to each target,
 * interleaved, after 20 warm-ups each (the per-mode benchmarks measure only this).
 */
export function connectSamples(topo: TrafficSite, targets: string[], n: number): Promise<Record<string, number[]>> {
  return client(topo, { first: targets[0], last: targets[0], connects: n, requests: 0, cpuConnections: 0 }, ['connect', String(n), ...targets]);
}

export async function measureTraffic(topo: TrafficSite, plan: TrafficPlan): Promise<Traffic> {
  const targets = plan.first === plan.last ? [plan.first, DIRECT] : [plan.first, plan.last, DIRECT];
  const c = await client<Record<string, number[]>>(topo, plan, ['connect', String(plan.connects), ...targets]);
  const rr = await client<Record<string, number[]>>(topo, plan, ['rr', String(plan.requests), plan.last, DIRECT]);
  // Alternate service and direct twice, so a change of load falls on both.
  const service: number[] = [];
  const direct: number[] = [];
  for (let k = 0; k < 2; k++) {
    service.push(await cpuPerConnection(topo, plan, plan.last));
    direct.push(await cpuPerConnection(topo, plan, DIRECT));
  }
  const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / xs.length, 1);
  return {
    firstPacket: { first: summarize(c[plan.first]), last: summarize(c[plan.last]), direct: summarize(c[DIRECT]) },
    request: { service: summarize(rr[plan.last]), direct: summarize(rr[DIRECT]) },
    cpuPerConnectionUs: { service: mean(service), direct: mean(direct) },
  };
}
