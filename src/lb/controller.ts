// The LoadBalancer controller: keeps MetalLB's objects, the LoadBalancer Services, the Nodes
// and their Leases; assigns addresses (assign.ts) and says which node announces each one
// (announce.ts). It neither reads nor writes anywhere itself: the tracker (tracker.ts) feeds
// it and carries its status into the model; the add-on (addon.ts) acts on announcements.
//
// Two ways the assignment reaches status.loadBalancer.ingress:
//  - standalone (writesStatus: 'local'): kproxy plays the API server, so the status is put
//    into the Service object before the model sees it, as the cluster IP allocation is;
//  - cluster ('api'): the model sees only what the API server has; the elected writer
//    (leader.ts) patches desiredIngress() into the API, and the watch brings it back.
import type { EndpointSlice, KubeObject, Service } from '../api/types.js';
import { validateService } from '../api/validate.js';
import type { ObjectError } from '../util/errors.js';
import { ALLOCATED_FROM_POOL_KEY } from './annotations.js';
import { announcements, type Announcement, type AnnouncedService } from './announce.js';
import { handlesService, LoadBalancerAssigner, type Assignment, type AssignResult, type LBServiceInput, type PoolUsage } from './assign.js';
import { L2_KIND, POOL_KIND, refuseOverlaps, validateL2Advertisement, validatePool, type IPAddressPool, type L2Advertisement } from './config.js';
import { leaseFacts, nodeFacts, type LeaseFacts, type NodeFacts } from './nodes.js';

export const LEASE_KIND = 'Lease';
export const LB_KINDS: ReadonlySet<string> = new Set([POOL_KIND, L2_KIND, LEASE_KIND]);

export interface ControllerOptions {
  writesStatus: 'local' | 'api';
  /** Assignments remembered from before (standalone state file). */
  held?: ReadonlyMap<string, Assignment>;
}

interface ServiceRecord {
  raw: KubeObject | null; // null only for PLAIN
  input: LBServiceInput | null; // null: invalid Service (or PLAIN)
}

/**
 * The record of every valid Service that is no LoadBalancer kproxy serves and holds no address
 * here: all the controller needs of it is that it is valid. One shared object, not the
 * Service and its validated copy per Service (≈680 bytes each, 6.8 MB at 10,000).
 */
const PLAIN: ServiceRecord = Object.freeze({ raw: null, input: null });

const idOf = (o: KubeObject) => `${o.metadata?.namespace || 'default'}/${o.metadata?.name ?? ''}`;

export class LoadBalancerController {
  private readonly poolObjects = new Map<string, IPAddressPool>();
  private readonly ads = new Map<string, L2Advertisement>();
  private readonly configErrors = new Map<string, ObjectError>(); // "Kind/ns/name"
  private readonly nodes = new Map<string, NodeFacts>();
  private readonly leases = new Map<string, LeaseFacts>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly assigner: LoadBalancerAssigner;
  private results = new Map<string, AssignResult>();
  private usablePools: IPAddressPool[] = [];
  private overlapErrors: ObjectError[] = [];
  private assignmentDirty = true;
  /** Bumped on every change that can move an announcement. */
  version = 0;

  constructor(private readonly opts: ControllerOptions) {
    this.assigner = new LoadBalancerAssigner(opts.held);
  }

  // ---- objects in ----------------------------------------------------------------------

  /** IPAddressPool, L2Advertisement or Lease. Returns the validation error, if any. */
  setObject(o: KubeObject): ObjectError | null {
    const id = idOf(o);
    const key = `${o.kind}/${id}`;
    this.version++;
    if (o.kind === LEASE_KIND) {
      const l = leaseFacts(o);
      if (l) this.leases.set(l.name, l);
      return null;
    }
    const v = o.kind === POOL_KIND ? validatePool(o) : validateL2Advertisement(o);
    const map = (o.kind === POOL_KIND ? this.poolObjects : this.ads) as Map<string, IPAddressPool | L2Advertisement>;
    if (!v.ok) {
      // As for every kind: the last valid version keeps working.
      this.configErrors.set(key, v.error);
      return v.error;
    }
    this.configErrors.delete(key);
    map.set(id, v.value);
    if (o.kind === POOL_KIND) this.assignmentDirty = true;
    return null;
  }

  deleteObject(kind: string, namespace: string, name: string): void {
    const id = `${namespace || 'default'}/${name}`;
    this.version++;
    this.configErrors.delete(`${kind}/${id}`);
    if (kind === LEASE_KIND) {
      if (namespace === 'kube-node-lease') this.leases.delete(name);
    } else if (kind === POOL_KIND) {
      if (this.poolObjects.delete(id)) this.assignmentDirty = true;
    } else if (kind === L2_KIND) this.ads.delete(id);
  }

  setNode(o: KubeObject): void {
    const n = nodeFacts(o);
    if (!n) return;
    this.nodes.set(n.name, n);
    this.version++;
  }

  deleteNode(name: string): void {
    if (this.nodes.delete(name)) this.version++;
  }

  /** A Service as the source gives it (after cluster IP allocation in standalone mode). */
  setService(o: KubeObject | null, id = o ? idOf(o) : ''): void {
    const before = this.services.get(id);
    if (!o) {
      if (!before) return;
      this.services.delete(id);
    } else {
      const v = validateService(o);
      const spec = (o.spec ?? {}) as Record<string, unknown>;
      const input: LBServiceInput | null = v.ok
        ? {
            id,
            svc: v.value,
            loadBalancerClass: typeof spec.loadBalancerClass === 'string' ? spec.loadBalancerClass : '',
            loadBalancerIP: typeof spec.loadBalancerIP === 'string' ? spec.loadBalancerIP.trim() : '',
          }
        : null;
      // Only LoadBalancer Services (now or before) concern the assignment.
      const concerns = (r: ServiceRecord | undefined) => !!r?.input && handlesService(r.input);
      // A Service that held an assignment keeps its object: the next pass re-delivers it without.
      const plain = !!input && !handlesService(input) && !this.results.has(id);
      this.services.set(id, plain ? PLAIN : { raw: o, input });
      if (!concerns(before) && !(input && handlesService(input))) return;
      if (before && input && before.input && JSON.stringify(assignmentView(before.input)) === JSON.stringify(assignmentView(input))) return;
    }
    this.assignmentDirty = true;
    this.version++;
  }

  // ---- assignment ------------------------------------------------------------------------

  /** Re-assigns when something relevant changed; returns the ids whose result changed. */
  assign(): string[] {
    if (!this.assignmentDirty) return [];
    this.assignmentDirty = false;
    this.version++;
    const { pools, errors } = refuseOverlaps([...this.poolObjects.values()]);
    this.usablePools = pools;
    this.overlapErrors = errors;
    const inputs: LBServiceInput[] = [];
    for (const r of this.services.values()) {
      // Standalone: an ingress address written in the manifest is the user's own; leave it be.
      if (r.input && !(this.opts.writesStatus === 'local' && r.input.svc.loadBalancerIngress.length > 0)) inputs.push(r.input);
    }
    if (this.opts.writesStatus === 'api') this.adoptStatuses(inputs);
    const before = this.results;
    this.results = this.assigner.assign(inputs, pools);
    const changed: string[] = [];
    for (const id of new Set([...before.keys(), ...this.results.keys()])) {
      if (JSON.stringify(before.get(id)) !== JSON.stringify(this.results.get(id))) changed.push(id);
    }
    return changed;
  }

  /**
   * In a cluster the status is the state: an address a Service already shows (written by an
   * earlier leader, or by MetalLB before the switch) is what it holds, when a pool has it.
   */
  private adoptStatuses(inputs: readonly LBServiceInput[]): void {
    const held = new Map(this.assigner.holdings());
    for (const i of inputs) {
      const ips = i.svc.loadBalancerIngress.map((g) => g.ip);
      const pool = ips.length > 0 ? this.usablePoolsFor(ips[0]) : undefined;
      if (pool) held.set(i.id, { ips, pool: pool.name });
    }
    this.assigner.reset(held);
  }

  private usablePoolsFor(ip: string): IPAddressPool | undefined {
    return this.usablePools.find((p) => p.addresses.contains(ip));
  }

  holdings(): ReadonlyMap<string, Assignment> {
    return this.assigner.holdings();
  }

  result(id: string): AssignResult | undefined {
    return this.results.get(id);
  }

  /** The ingress a Service should show (assigned addresses), or null when kproxy does not assign it. */
  desiredIngress(id: string): { ip: string }[] | null {
    const r = this.results.get(id);
    return r?.ok ? r.assignment.ips.map((ip) => ({ ip })) : null;
  }

  /**
   * The Service object the model should see (standalone): the source's object with the
   * assigned addresses as status.loadBalancer.ingress. A Service whose manifest already
   * carries an ingress address, or that kproxy does not serve, passes unchanged.
   */
  withStatus(raw: KubeObject, id = idOf(raw)): KubeObject {
    const r = this.results.get(id);
    if (!r?.ok) return raw;
    const status = (raw.status ?? {}) as Record<string, unknown>;
    const lb = (status.loadBalancer ?? {}) as Record<string, unknown>;
    if (Array.isArray(lb.ingress) && lb.ingress.length > 0) return raw;
    return {
      ...raw,
      metadata: { ...raw.metadata, annotations: { ...(raw.metadata?.annotations ?? {}), [ALLOCATED_FROM_POOL_KEY]: r.assignment.pool } },
      status: { ...status, loadBalancer: { ...lb, ingress: r.assignment.ips.map((ip) => ({ ip, ipMode: 'VIP' })) } },
    };
  }

  /** Every Service kproxy assigns addresses to (or failed to), by "ns/name". */
  assignedIds(): string[] {
    return [...this.results.keys()];
  }

  /** Whether the Service is known and valid (its errors, if any, are then the controller's). */
  isValidService(id: string): boolean {
    const r = this.services.get(id);
    return r === PLAIN || !!r?.input;
  }

  rawService(id: string): KubeObject | undefined {
    return this.services.get(id)?.raw ?? undefined;
  }

  /** Validation errors of MetalLB objects, refused pools, and Services that got no address. */
  errors(): ObjectError[] {
    const out = [...this.configErrors.values(), ...this.overlapErrors];
    for (const r of this.results.values()) if (!r.ok) out.push(r.error);
    return out;
  }

  usage(): PoolUsage[] {
    return this.assigner.usage(this.usablePools);
  }

  // ---- announcement ----------------------------------------------------------------------

  /**
   * Who announces each address, from the Services as the model has them (their ingress
   * addresses) and their EndpointSlices.
   */
  announcements(services: ReadonlyMap<string, Service>, slices: ReadonlyMap<string, readonly EndpointSlice[]>, now = Date.now()): Map<string, Announcement> {
    const list: AnnouncedService[] = [];
    for (const [id, svc] of services) {
      if (svc.type !== 'LoadBalancer') continue;
      const ips = svc.loadBalancerIngress.filter((g) => g.ipMode === 'VIP' && g.ip).map((g) => g.ip);
      if (ips.length === 0) continue;
      list.push({ id, svc, ips, pool: this.usablePoolsFor(ips[0])?.name ?? '' });
    }
    return announcements({
      services: list,
      pools: new Map(this.usablePools.map((p) => [p.name, p])),
      advertisements: [...this.ads.values()],
      nodes: this.nodes,
      leases: this.leases,
      slices: (id) => slices.get(id) ?? [],
      now,
    });
  }

  get leaseFacts(): ReadonlyMap<string, LeaseFacts> {
    return this.leases;
  }

  /** Whether any IPAddressPool is known (the feature is in use). */
  get active(): boolean {
    return this.poolObjects.size > 0;
  }
}

/** The parts of a Service that assignment depends on. */
function assignmentView(i: LBServiceInput) {
  const s = i.svc;
  return [
    s.type,
    s.ipFamilies,
    s.ipFamilyPolicy,
    s.annotations,
    s.labels,
    s.ports.map((p) => [p.port, p.protocol]),
    s.externalTrafficPolicy,
    s.selector,
    s.loadBalancerIngress.map((g) => g.ip),
    i.loadBalancerClass,
    i.loadBalancerIP,
  ];
}
