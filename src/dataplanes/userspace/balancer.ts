// The load balancer of one service port: its endpoint sets (internal for ClusterIP traffic,
// external for externalIPs / LoadBalancer IPs / NodePorts, exactly as the model computed
// them), one scheduler per set, ClientIP affinity and the live connection counts the
// counting schedulers read.
import type { Endpoint, NoEndpointsVerdict, ServicePortState } from '../../model/types.js';
import { isNodeLocalAddress } from './addresses.js';
import { inRanges, parseRanges } from './cidrs.js';
import { AffinityTable } from './affinity.js';
import type { EndpointHealth } from './health.js';
import { createScheduler, type Backend, type Flow, type Scheduler, type SchedulerName } from './schedulers/index.js';

/** What a balancer reads of a service port (a worker process gets just this, as JSON). */
export interface BalancerInput {
  readonly servicePortName: string;
  readonly internal: { readonly endpoints: readonly EndpointRef[]; readonly noEndpoints: NoEndpointsVerdict | null };
  readonly external: {
    readonly endpoints: readonly EndpointRef[];
    readonly noEndpoints: NoEndpointsVerdict | null;
    readonly shortCircuit: boolean;
    readonly shortCircuitEndpoints: readonly EndpointRef[];
  } | null;
  /** This node's Pod CIDRs: with shortCircuit, their traffic (like the node's own) goes to the cluster-wide set. */
  readonly podCIDRs: readonly string[];
  readonly sessionAffinity: ServicePortState['sessionAffinity'];
}

export type EndpointRef = Pick<Endpoint, 'ip' | 'port' | 'endpoint'>;

/** The model's decisions for one service port, in the form a balancer (or a worker) reads. */
export function balancerInput(sp: ServicePortState, podCIDRs: readonly string[]): BalancerInput {
  const ref = (e: EndpointRef): EndpointRef => ({ ip: e.ip, port: e.port, endpoint: e.endpoint });
  const ext = sp.external;
  return {
    servicePortName: sp.servicePortName,
    internal: { endpoints: sp.internal.endpoints.map(ref), noEndpoints: sp.internal.noEndpoints },
    external:
      ext && ext.capture
        ? { endpoints: ext.endpoints.map(ref), noEndpoints: ext.noEndpoints, shortCircuit: ext.shortCircuit, shortCircuitEndpoints: ext.shortCircuitEndpoints.map(ref) }
        : ext
          ? { endpoints: [], noEndpoints: ext.noEndpoints ?? 'reject', shortCircuit: false, shortCircuitEndpoints: [] }
          : null,
    podCIDRs: ext?.shortCircuit ? podCIDRs : [],
    sessionAffinity: sp.sessionAffinity,
  };
}

/** Which of the model's endpoint sets a listener serves. */
export type TrafficKind = 'internal' | 'external';

/**
 * The endpoint set a connection uses: a listener's own, or, for external traffic from this
 * node or its Pods when the model short-circuits it, the cluster-wide set.
 */
export type EndpointSetName = TrafficKind | 'shortCircuit';

class EndpointSet {
  backends: readonly Backend[] = [];
  ids: ReadonlySet<string> = new Set();
  constructor(public scheduler: Scheduler) {}
}

export class ServiceBalancer {
  servicePortName: string;
  private schedulerName: SchedulerName;
  private readonly sets: Record<EndpointSetName, EndpointSet>;
  /** What happens to a connection whose set is empty: refuse (reject) or hold silently (drop). */
  private verdicts: Record<EndpointSetName, NoEndpointsVerdict> = { internal: 'reject', external: 'reject', shortCircuit: 'reject' };
  private shortCircuit = false;
  private podCIDRs: ReturnType<typeof parseRanges> = [];
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
    this.sets = {
      internal: new EndpointSet(createScheduler(scheduler)),
      external: new EndpointSet(createScheduler(scheduler)),
      shortCircuit: new EndpointSet(createScheduler(scheduler)),
    };
    this.update(sp, scheduler);
  }

  get scheduler(): SchedulerName {
    return this.schedulerName;
  }

  /** Takes the service port's new endpoints; connections already open are not touched. */
  update(sp: BalancerInput, scheduler: SchedulerName): void {
    this.servicePortName = sp.servicePortName;
    if (scheduler !== this.schedulerName) {
      this.schedulerName = scheduler;
      for (const set of Object.values(this.sets)) set.scheduler = createScheduler(scheduler);
    }
    const ext = sp.external;
    this.verdicts = {
      internal: sp.internal.noEndpoints ?? 'reject',
      external: ext?.noEndpoints ?? 'reject',
      shortCircuit: 'reject', // the cluster-wide set is empty only when no endpoint exists
    };
    this.shortCircuit = ext?.shortCircuit ?? false;
    this.podCIDRs = parseRanges(sp.podCIDRs);
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
    this.setBackends(this.sets.internal, backendsOf(sp.internal.endpoints));
    this.setBackends(this.sets.external, backendsOf(ext?.endpoints ?? []));
    this.setBackends(this.sets.shortCircuit, backendsOf(ext?.shortCircuitEndpoints ?? []));
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

  /**
   * The set a new connection from `clientIP` to a listener of this kind uses: external
   * traffic from the node itself or its Pods goes to the cluster-wide set when the model
   * short-circuits it (eTP Local), as kube-proxy does.
   */
  setFor(kind: TrafficKind, client: string | { readonly clientIP: string }): EndpointSetName {
    if (kind !== 'external' || !this.shortCircuit) return kind;
    // (the client's address is read only here: reading it may cost a syscall)
    const clientIP = typeof client === 'string' ? client : client.clientIP;
    if (isNodeLocalAddress(clientIP) || inRanges(this.podCIDRs, clientIP)) return 'shortCircuit';
    return kind;
  }

  /** The endpoints of a set (empty: see noEndpoints). */
  backends(set: EndpointSetName): readonly Backend[] {
    return this.sets[set].backends;
  }

  /** The model's verdict for a connection whose set is empty. */
  noEndpoints(set: EndpointSetName): NoEndpointsVerdict {
    return this.verdicts[set];
  }

  /**
   * Picks a backend for a new connection or UDP session: the client's affinity backend if it
   * still qualifies, else the scheduler's choice among backends not yet tried for this flow
   * and not ejected (ejected ones only when nothing else is left).
   */
  choose(name: EndpointSetName, flow: Flow, tried: ReadonlySet<string> | null = null): Backend | null {
    const set = this.sets[name];
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
