// The load balancer of one service port: its endpoint sets (internal for ClusterIP traffic,
// external for externalIPs / LoadBalancer IPs / NodePorts, exactly as the model computed
// them), one scheduler per set, ClientIP affinity and the live connection counts the
// counting schedulers read.
import type { Endpoint, ServicePortState } from '../../model/types.js';
import { AffinityTable } from './affinity.js';
import type { EndpointHealth } from './health.js';
import { createScheduler, type Backend, type Flow, type Scheduler, type SchedulerName } from './schedulers/index.js';

/** What a balancer reads of a service port (a worker process gets just this, as JSON). */
export interface BalancerInput {
  readonly servicePortName: string;
  readonly hasEndpoints: boolean;
  readonly internalEndpoints: readonly EndpointRef[];
  readonly externalEndpoints: readonly EndpointRef[];
  readonly sessionAffinity: ServicePortState['sessionAffinity'];
}

export type EndpointRef = Pick<Endpoint, 'ip' | 'port' | 'endpoint'>;

export function balancerInput(sp: BalancerInput): BalancerInput {
  const ref = (e: EndpointRef): EndpointRef => ({ ip: e.ip, port: e.port, endpoint: e.endpoint });
  return {
    servicePortName: sp.servicePortName,
    hasEndpoints: sp.hasEndpoints,
    internalEndpoints: sp.internalEndpoints.map(ref),
    externalEndpoints: sp.externalEndpoints.map(ref),
    sessionAffinity: sp.sessionAffinity,
  };
}

/** Which of the model's endpoint sets a listener serves. */
export type TrafficKind = 'internal' | 'external';

class EndpointSet {
  backends: readonly Backend[] = [];
  ids: ReadonlySet<string> = new Set();
  constructor(public scheduler: Scheduler) {}
}

export class ServiceBalancer {
  /** "no endpoints at all" (refuse) vs "none usable for this policy" (drop). */
  hasEndpoints = false;
  servicePortName: string;
  private schedulerName: SchedulerName;
  private readonly sets: Record<TrafficKind, EndpointSet>;
  /** Backend objects by id, shared by both sets so connection counts agree. */
  private byId = new Map<string, Backend>();
  private affinity: AffinityTable | null = null;

  constructor(
    sp: BalancerInput,
    scheduler: SchedulerName,
    private readonly health: EndpointHealth,
  ) {
    this.servicePortName = sp.servicePortName;
    this.schedulerName = scheduler;
    this.sets = { internal: new EndpointSet(createScheduler(scheduler)), external: new EndpointSet(createScheduler(scheduler)) };
    this.update(sp, scheduler);
  }

  get scheduler(): SchedulerName {
    return this.schedulerName;
  }

  /** Takes the service port's new endpoints; connections already open are not touched. */
  update(sp: BalancerInput, scheduler: SchedulerName): void {
    this.servicePortName = sp.servicePortName;
    this.hasEndpoints = sp.hasEndpoints;
    if (scheduler !== this.schedulerName) {
      this.schedulerName = scheduler;
      this.sets.internal.scheduler = createScheduler(scheduler);
      this.sets.external.scheduler = createScheduler(scheduler);
    }
    const byId = new Map<string, Backend>();
    const backendsOf = (eps: readonly EndpointRef[]): Backend[] => {
      const out: Backend[] = [];
      for (const ep of eps) {
        let b = byId.get(ep.endpoint) ?? this.byId.get(ep.endpoint);
        if (!b) b = { id: ep.endpoint, ip: ep.ip, port: ep.port, weight: 1, active: 0 };
        byId.set(ep.endpoint, b);
        out.push(b);
      }
      return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    };
    this.setBackends(this.sets.internal, backendsOf(sp.internalEndpoints));
    this.setBackends(this.sets.external, backendsOf(sp.externalEndpoints));
    this.byId = byId;

    const a = sp.sessionAffinity;
    if (a.type === 'ClientIP') {
      if (this.affinity) this.affinity.setTimeout(a.timeoutSeconds * 1000);
      else this.affinity = new AffinityTable(a.timeoutSeconds * 1000);
      this.affinity.sweep(Date.now(), new Set(byId.keys()));
    } else {
      this.affinity = null;
    }
  }

  private setBackends(set: EndpointSet, backends: Backend[]): void {
    set.backends = backends;
    set.ids = new Set(backends.map((b) => b.id));
    set.scheduler.setBackends(backends);
  }

  /** The endpoints a listener of this kind would use (empty: refuse or drop). */
  backends(kind: TrafficKind): readonly Backend[] {
    return this.sets[kind].backends;
  }

  /**
   * Picks a backend for a new connection or UDP session: the client's affinity backend if it
   * still qualifies, else the scheduler's choice among backends not yet tried for this flow
   * and not ejected (ejected ones only when nothing else is left).
   */
  choose(kind: TrafficKind, flow: Flow, tried: ReadonlySet<string> | null = null): Backend | null {
    const set = this.sets[kind];
    if (set.backends.length === 0) return null;
    const now = Date.now();
    const health = this.health;
    if (this.affinity) {
      const id = this.affinity.lookup(flow.clientIP, now);
      if (id !== null) {
        const b = this.byId.get(id);
        if (b && set.ids.has(id) && !tried?.has(id) && !health.isEjected(id, now)) return b;
        this.affinity.forget(flow.clientIP);
      }
    }
    let b = set.scheduler.pick(flow, (x) => (tried !== null && tried.has(x.id)) || health.isEjected(x.id, now));
    if (!b) b = set.scheduler.pick(flow, tried ? (x) => tried.has(x.id) : undefined);
    if (b && this.affinity) this.affinity.set(flow.clientIP, b.id, now);
    return b;
  }

  /** A connect to `b` failed: eject it for a while and end the client's affinity to it. */
  failed(b: Backend, clientIP: string): void {
    this.health.eject(b.id);
    this.affinity?.forget(clientIP);
  }

  sweep(now: number): void {
    this.affinity?.sweep(now);
  }

  /** Whether ClientIP affinity is on: such a Service is served by the primary process only. */
  get hasAffinity(): boolean {
    return this.affinity !== null;
  }

  /** Live affinity entries (tests and metrics). */
  get affinityEntries(): number {
    return this.affinity?.size ?? 0;
  }
}
