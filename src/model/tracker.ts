// Change tracking: object events of any number are coalesced between two syncs and turned
// into one new ProxyState at sync time. Only Services whose own object or EndpointSlices
// changed are recomputed; every other ServicePortState is shared with the previous snapshot.
import { validateEndpointSlice, validateNode, validateService } from '../api/validate.js';
import { ZONE_LABEL, type EndpointSlice, type KubeObject, type Node, type Service } from '../api/types.js';
import type { ObjectError } from '../util/errors.js';
import { sameNodeInfo, sameServicePort } from './equal.js';
import { dnsView, type DnsService } from './dns.js';
import { buildServicePorts } from './serviceport.js';
import { SortedMap } from './sorted-map.js';
import type { NodeInfo, ProxyState, ServicePortState } from './types.js';

export interface TrackerOptions {
  nodeName: string;
  /** Addresses of this machine, used when no Node object names them. */
  machineAddresses?: readonly string[];
  /** Feature gate PreferSameTrafficDistribution (default on, as in recent Kubernetes). */
  preferSameNode?: boolean;
  /** --bind-address / nodeIPOverride: the node's primary IPs, before the Node object's. */
  nodeIPOverride?: readonly string[];
  /** kube-proxy's serviceProxyName: handle only Services with this label value ("" = unlabelled ones). */
  serviceProxyName?: string;
}

export type ObjectKind = 'Service' | 'EndpointSlice' | 'Node';

export interface ChangeCounts {
  servicesPending: number;
  endpointsPending: number;
  serviceChangesTotal: number;
  endpointChangesTotal: number;
}

const TAINT_TO_BE_DELETED = 'ToBeDeletedByClusterAutoscaler';

export class ChangeTracker {
  // The Services and each Service's EndpointSlices, as persistent maps: a snapshot publishes
  // them as they are (nothing is copied), and later events edit the drafts.
  private services = SortedMap.empty<Service>().edit();
  private slicesByService = SortedMap.empty<readonly EndpointSlice[]>().edit(); // by the Service's "ns/name"
  private readonly slices = new Map<string, EndpointSlice>(); // by slice "ns/name"
  private readonly errors = new Map<string, ObjectError>(); // by "Kind/ns/name"
  private errorsVersion = 0;
  private sortedErrors: { version: number; list: readonly ObjectError[] } = { version: -1, list: [] };
  private node: Node | null = null;

  private readonly dirtyServices = new Set<string>(); // Service object changed
  private readonly dirtyEndpoints = new Set<string>(); // its slices changed
  private allDirty = true;
  private triggerTimes: number[] = [];
  private counts = { serviceChangesTotal: 0, endpointChangesTotal: 0 };
  private noLocal = { internal: 0, external: 0 };

  private state: ProxyState;
  private readonly portKeysByService = new Map<string, string[]>();

  constructor(private readonly opts: TrackerOptions) {
    this.state = {
      generation: 0,
      node: this.nodeInfo(),
      nodeChanged: true,
      servicePorts: SortedMap.empty(),
      services: SortedMap.empty(),
      dns: SortedMap.empty(),
      endpointSlices: SortedMap.empty(),
      changed: new Set(),
      deleted: new Set(),
      errors: [],
    };
  }

  // ---- events ----------------------------------------------------------------------------

  /**
   * Adds or replaces an object. An invalid object is recorded as an error; if a valid
   * version of it was known before, that version keeps working (nothing is lost).
   * Returns the validation error, if any. Objects of other kinds are ignored.
   */
  upsert(o: KubeObject): ObjectError | null {
    switch (o.kind) {
      case 'Service':
        return this.upsertService(o);
      case 'EndpointSlice':
        return this.upsertSlice(o);
      case 'Node':
        return this.upsertNode(o);
      default:
        return null;
    }
  }

  delete(kind: ObjectKind, namespace: string, name: string): void {
    const id = objectId(namespace, name);
    this.deleteError(kind, id);
    if (kind === 'Service') {
      if (this.services.delete(id)) this.markService(id);
    } else if (kind === 'EndpointSlice') {
      const old = this.slices.get(id);
      if (old) {
        this.slices.delete(id);
        this.removeFromGroup(old);
        this.markEndpoints(objectId(old.namespace, old.serviceName), null);
      }
    } else if (kind === 'Node' && name === this.opts.nodeName) {
      this.node = null;
      this.allDirty = true;
    }
  }

  /** Records a problem that is not a validation error (a conflict between objects, say). */
  reportError(e: ObjectError): void {
    this.recordError(e);
  }

  clearError(kind: string, namespace: string, name: string): void {
    this.deleteError(kind, `${namespace}/${name}`);
  }

  private upsertService(o: KubeObject): ObjectError | null {
    const v = validateService(o);
    if (!v.ok) return this.recordError(v.error);
    const svc = v.value;
    const id = objectId(svc.namespace, svc.name);
    this.deleteError('Service', id);
    if (!this.handles(svc)) {
      if (this.services.delete(id)) this.markService(id);
      return null;
    }
    this.services.set(id, svc);
    this.markService(id);
    return null;
  }

  private handles(svc: Service): boolean {
    const want = this.opts.serviceProxyName ?? '';
    return (svc.labels['service.kubernetes.io/service-proxy-name'] ?? '') === want;
  }

  private upsertSlice(o: KubeObject): ObjectError | null {
    const v = validateEndpointSlice(o);
    if (!v.ok) return this.recordError(v.error);
    this.upsertEndpointSlice(v.value);
    return null;
  }

  /**
   * Adds or replaces an EndpointSlice already in the model's validated form (what
   * validateEndpointSlice returns), from a producer that builds it from validated objects
   * (the standalone EndpointSlice controller). It is kept as given: never change it afterwards.
   */
  upsertEndpointSlice(slice: EndpointSlice): void {
    const id = objectId(slice.namespace, slice.name);
    this.deleteError('EndpointSlice', id);
    const old = this.slices.get(id);
    if (old && old.serviceName !== slice.serviceName) {
      this.removeFromGroup(old);
      this.markEndpoints(objectId(old.namespace, old.serviceName), null);
    }
    this.slices.set(id, slice);
    const svcId = objectId(slice.namespace, slice.serviceName);
    // A Service's slices are a short array, replaced (not changed) so that snapshots keep theirs.
    const group = this.slicesByService.get(svcId) ?? [];
    const at = old ? group.indexOf(old) : -1;
    // map and concat make arrays of exactly their length (a spread or a push leaves room for
    // 17: ~130 bytes more for each of 10,000s of Services; see also newKeys in snapshot()).
    this.slicesByService.set(svcId, at >= 0 ? group.map((s, i) => (i === at ? slice : s)) : group.concat([slice]));
    this.markEndpoints(svcId, slice.triggerTime);
  }

  private removeFromGroup(old: EndpointSlice): void {
    const svcId = objectId(old.namespace, old.serviceName);
    const rest = (this.slicesByService.get(svcId) ?? []).filter((s) => s !== old);
    if (rest.length > 0)
      this.slicesByService.set(svcId, rest.slice()); // exactly its length (filter leaves room)
    else this.slicesByService.delete(svcId);
  }

  private upsertNode(o: KubeObject): ObjectError | null {
    const v = validateNode(o);
    if (!v.ok) {
      if (v.error.name !== this.opts.nodeName) return null; // other nodes do not concern us
      return this.recordError(v.error);
    }
    if (v.value.name !== this.opts.nodeName) return null;
    this.deleteError('Node', `/${v.value.name}`);
    this.node = v.value;
    this.allDirty = true;
    return null;
  }

  private recordError(e: ObjectError): ObjectError {
    this.errors.set(`${e.kind}/${e.namespace}/${e.name}`, e);
    this.errorsVersion++;
    return e;
  }

  /**
   * Forgets the error of "Kind/ns/name" (id: "ns/name"). Every change of every object comes
   * here and errors are rare: the key is only built when there are errors to look in.
   */
  private deleteError(kind: string, id: string): void {
    if (this.errors.size > 0 && this.errors.delete(`${kind}/${id}`)) this.errorsVersion++;
  }

  private markService(id: string): void {
    this.dirtyServices.add(id);
    this.counts.serviceChangesTotal++;
  }

  private markEndpoints(svcId: string, triggerTime: number | null): void {
    this.dirtyEndpoints.add(svcId);
    this.counts.endpointChangesTotal++;
    if (triggerTime !== null) this.triggerTimes.push(triggerTime);
  }

  // ---- queries ---------------------------------------------------------------------------

  changeCounts(): ChangeCounts {
    return {
      servicesPending: this.dirtyServices.size,
      endpointsPending: this.dirtyEndpoints.size,
      ...this.counts,
    };
  }

  /** Trigger times (ms since epoch) of the EndpointSlice changes in the last snapshot. */
  takeTriggerTimes(): number[] {
    const t = this.triggerTimes;
    this.triggerTimes = [];
    return t;
  }

  current(): ProxyState {
    return this.state;
  }

  /**
   * Service ports whose Local policy has no node-local endpoint while endpoints exist
   * elsewhere, in the last snapshot (kept up to date per change: the sync loop reports it
   * after every sync, and counting it from the state would walk every port each time).
   */
  noLocalEndpointCounts(): { internal: number; external: number } {
    return { ...this.noLocal };
  }

  /**
   * The ProxyState with every change since the previous snapshot applied. Its cost follows
   * what changed: only dirty Services are recomputed, and the maps are new versions of the
   * previous snapshot's persistent maps, sharing everything else.
   */
  snapshot(): ProxyState {
    const prev = this.state;
    const node = this.nodeInfo();
    const services = this.services.finish();
    const endpointSlices = this.slicesByService.finish();
    // The node changed (or this is the first snapshot): every Service is recomputed.
    const dirty = this.allDirty ? new Set([...services.keys(), ...this.portKeysByService.keys()]) : new Set([...this.dirtyServices, ...this.dirtyEndpoints]);
    this.allDirty = false;
    this.dirtyServices.clear();
    this.dirtyEndpoints.clear();

    const servicePorts = (prev.servicePorts as SortedMap<ServicePortState>).edit();
    const dns = (prev.dns as SortedMap<DnsService>).edit();
    const changed = new Set<string>();
    const deleted = new Set<string>();
    const opts = { node, preferSameNode: this.opts.preferSameNode ?? true };
    for (const svcId of dirty) {
      const oldKeys = this.portKeysByService.get(svcId) ?? [];
      const svc = services.get(svcId);
      const slices = endpointSlices.get(svcId) ?? [];
      const ports: ServicePortState[] = svc ? buildServicePorts(svc, slices, opts) : [];
      if (!svc) dns.delete(svcId);
      // A ClusterIP or ExternalName Service's DNS view depends on the Service alone.
      else if (svc.headless || prev.services.get(svcId) !== svc || !prev.dns.has(svcId)) dns.set(svcId, dnsView(svc, slices));
      const newKeys = ports.map((sp) => sp.key); // kept per Service: exactly its length
      for (const sp of ports) {
        const old = prev.servicePorts.get(sp.key);
        if (!old || !sameServicePort(old, sp)) {
          this.countNoLocal(old, -1);
          this.countNoLocal(sp, 1);
          servicePorts.set(sp.key, sp);
          changed.add(sp.key);
        }
      }
      for (const k of oldKeys) {
        if (newKeys.includes(k)) continue;
        this.countNoLocal(prev.servicePorts.get(k), -1);
        servicePorts.delete(k);
        deleted.add(k);
      }
      if (newKeys.length > 0) this.portKeysByService.set(svcId, newKeys);
      else this.portKeysByService.delete(svcId);
    }

    this.state = {
      generation: prev.generation + 1,
      node,
      nodeChanged: !sameNodeInfo(prev.node, node),
      servicePorts: servicePorts.finish(),
      services,
      dns: dns.finish(),
      endpointSlices,
      changed,
      deleted,
      errors: this.errorList(),
    };
    return this.state;
  }

  private countNoLocal(sp: ServicePortState | undefined, by: 1 | -1): void {
    if (!sp || !sp.hasEndpoints || (sp.localEndpoints && sp.localEndpoints.length > 0)) return;
    if (sp.internalPolicyLocal) this.noLocal.internal += by;
    if (sp.externalPolicyLocal) this.noLocal.external += by;
  }

  private errorList(): readonly ObjectError[] {
    if (this.sortedErrors.version !== this.errorsVersion) {
      const list = [...this.errors.values()].sort((a, b) => errorOrder(a).localeCompare(errorOrder(b)));
      this.sortedErrors = { version: this.errorsVersion, list };
    }
    return this.sortedErrors.list;
  }

  private nodeInfo(): NodeInfo {
    const n = this.node;
    const fromObject = n ? n.addresses.filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address) : [];
    const addresses = fromObject.length > 0 ? fromObject : [...(this.opts.machineAddresses ?? [])];
    const labels = n?.labels ?? {};
    return {
      name: this.opts.nodeName,
      labels,
      zone: labels[ZONE_LABEL] ?? '',
      addresses: [...new Set(addresses)],
      podCIDRs: n?.podCIDRs ?? [],
      primaryIPv4: primaryOf(this.opts.nodeIPOverride ?? [], addresses, false),
      primaryIPv6: primaryOf(this.opts.nodeIPOverride ?? [], addresses, true),
      deleting: n?.deleting ?? false,
      eligible: !(n?.taints ?? []).some((t) => t.key === TAINT_TO_BE_DELETED),
      known: n !== null,
    };
  }
}

function primaryOf(override: readonly string[], addresses: readonly string[], v6: boolean): string {
  return override.find((ip) => ip.includes(':') === v6) ?? addresses.find((ip) => ip.includes(':') === v6) ?? '';
}

/**
 * "ns/name", the key of a Service or slice in every map the tracker keeps: built with join,
 * which gives V8's flat string (a template literal of 13+ characters is a tree of pieces).
 */
function objectId(namespace: string, name: string): string {
  return [namespace, name].join('/');
}

function errorOrder(e: ObjectError): string {
  return `${e.kind}/${e.namespace}/${e.name}/${e.field}`;
}
