// Messages between the primary process and its worker processes (workers.ts, worker.ts).
import type { BalancerInput, TrafficKind } from './balancer.js';
import type { SchedulerName } from './schedulers/index.js';

export type ToWorker =
  /** Every shared service port's balancer input; ports not listed are gone. */
  | { t: 'routes'; servicePorts: [key: string, input: BalancerInput, scheduler: SchedulerName][] }
  /** A listening socket (sent along as the handle) and what it serves; again without a handle: a new route. */
  | { t: 'listen'; key: string; servicePort: string; kind: TrafficKind; sourceRanges: readonly string[] }
  | { t: 'close'; key: string; graceMs: number }
  | { t: 'stop' };

export type FromWorker =
  /** The worker listens for messages: only now may sockets be handed over. */
  { t: 'ready' } | { t: 'stats'; retries: Record<string, number>; rejected: Record<string, number>; tcpConnections: number };
