// The scheduler contract. A scheduler is a small pure object: it is told the set of backends
// of one service port (setBackends) and picks one per new connection or UDP session. It keeps
// no sockets and no clocks, so each can be tested on its own with plain objects.

/** A backend as a scheduler sees it: an endpoint and its live connection count. */
export interface Backend {
  /** "ip:port", the endpoint's identity. */
  readonly id: string;
  readonly ip: string;
  readonly port: number;
  /** IPVS weight; Kubernetes endpoints all weigh 1. */
  readonly weight: number;
  /** Connections (TCP) or sessions (UDP) open to this backend now; kept by the caller. */
  active: number;
}

/** What a scheduler may look at for one new flow. */
export interface Flow {
  /** The client's IP (source address). */
  clientIP: string;
  /** The address the client connected to (the service IP or node IP). */
  destIP: string;
}

export type Skip = (b: Backend) => boolean;

export interface Scheduler {
  readonly name: SchedulerName;
  /** The backends changed. The array is sorted by id and not mutated afterwards. */
  setBackends(backends: readonly Backend[]): void;
  /** Picks a backend for a new flow, passing over those for which skip() is true. */
  pick(flow: Flow, skip?: Skip): Backend | null;
}

export const SCHEDULER_NAMES = ['rr', 'random', 'lc', 'sed', 'nq', 'dh', 'sh', 'maglev', 'p2c'] as const;
export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export const never: Skip = () => false;
