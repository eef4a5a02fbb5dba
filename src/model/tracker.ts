// Change tracking: object events of any number are coalesced between two syncs and turned
// into one new ProxyState at sync time. Only Services whose own object or EndpointSlices
// changed are recomputed; every other ServicePortState is shared with the previous snapshot.
import { validateEndpointSlice, validateNode, validateService } from '../api/validate.js';
import { ZONE_LABEL, type EndpointSlice, type KubeObject, type Node, type Service } from '../api/types.js';
import type { ObjectError } from '../util/errors.js';
import { sameNodeInfo, sameServicePort } from './equal.js';
import { dnsView } from './dns.js';
import { buildServicePorts } from './serviceport.js';
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
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>(); // by slice "ns/name"
  private readonly slicesByService = new Map<string, Map<string, EndpointSlice>>();
  private readonly errors = new Map<string, ObjectError>(); // by "Kind/ns/name"
  private node: Node | null = null;

  private readonly dirtyServices = new Set<string>(); // Service object changed
  private readonly dirtyEndpoints = new Set<string>(); // its slices changed
  private allDirty = true;
  private triggerTimes: number[] = [];
  private counts = { serviceChangesTotal: 0, endpointChangesTotal: 0 };

  private state: ProxyState;
  private portKeysByService = new Map<string, string[]>();
  private servicesVersion = 0;
  private slicesVersion = 0;
  private publishedServices: { version: number; map: ReadonlyMap<string, Service> } = { version: -1, map: new Map() };
  private publishedSlices: { version: number; map: Map<string, readonly EndpointSlice[]> } = { version: -1, map: new Map() };

  constructor(private readonly opts: TrackerOptions) {
    this.state = {
      generation: 0,
      node: this.nodeInfo(),
      nodeChanged: true,
      servicePorts: new Map(),
      services: new Map(),
      dns: new Map(),
      endpointSlices: new Map(),
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
    const id = `${namespace}/${name}`;
    this.errors.delete(`${kind}/${id}`);
    if (kind === 'Service') {
      if (this.services.delete(id)) this.markService(id);
    } else if (kind === 'EndpointSlice') {
      const old = this.slices.get(id);
      if (old) {
        this.slices.delete(id);
        this.slicesByService.get(`${old.namespace}/${old.serviceName}`)?.delete(id);
        this.markEndpoints(`${old.namespace}/${old.serviceName}`, null);
      }
    } else if (kind === 'Node' && name === this.opts.nodeName) {
      this.node = null;
      this.allDirty = true;
    }
  }

  /** Records a problem that is not a validation error (a conflict between objects, say). */
  reportError(e: ObjectError): void {
    this.errors.set(`${e.kind}/${e.namespace}/${e.name}`, e);
  }

  clearError(kind: string, namespace: string, name: string): void {
    this.errors.delete(`${kind}/${namespace}/${name}`);
  }

  private upsertService(o: KubeObject): ObjectError | null {
    const v = validateService(o);
    if (!v.ok) return this.recordError(v.error);
    const svc = v.value;
    const id = `${svc.namespace}/${svc.name}`;
    this.errors.delete(`Service/${id}`);
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
    const slice = v.value;
    const id = `${slice.namespace}/${slice.name}`;
    this.errors.delete(`EndpointSlice/${id}`);
    const old = this.slices.get(id);
    if (old && old.serviceName !== slice.serviceName) {
      this.slicesByService.get(`${old.namespace}/${old.serviceName}`)?.delete(id);
      this.markEndpoints(`${old.namespace}/${old.serviceName}`, null);
    }
    this.slices.set(id, slice);
    const svcId = `${slice.namespace}/${slice.serviceName}`;
    let group = this.slicesByService.get(svcId);
    if (!group) this.slicesByService.set(svcId, (group = new Map()));
    group.set(id, slice);
    this.markEndpoints(svcId, slice.triggerTime);
    return null;
  }

  private upsertNode(o: KubeObject): ObjectError | null {
    const v = validateNode(o);
    if (!v.ok) {
      if (v.error.name !== this.opts.nodeName) return null; // other nodes do not concern us
      return this.recordError(v.error);
    }
    if (v.value.name !== this.opts.nodeName) return null;
    this.errors.delete(`Node//${v.value.name}`);
    this.node = v.value;
    this.allDirty = true;
    return null;
  }

  private recordError(e: ObjectError): ObjectError {
    this.errors.set(`${e.kind}/${e.namespace}/${e.name}`, e);
    return e;
  }

  private markService(id: string): void {
    this.dirtyServices.add(id);
    this.counts.serviceChangesTotal++;
    this.servicesVersion++;
  }

  private markEndpoints(svcId: string, triggerTime: number | null): void {
    this.dirtyEndpoints.add(svcId);
    this.counts.endpointChangesTotal++;
    this.slicesVersion++;
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

  /** The ProxyState with every change since the previous snapshot applied. */
  snapshot(): ProxyState {
    const prev = this.state;
    const node = this.nodeInfo();
    const all = this.allDirty;
    const dirty = all ? new Set([...this.services.keys(), ...this.portKeysByService.keys()]) : new Set([...this.dirtyServices, ...this.dirtyEndpoints]);
    this.allDirty = false;
    this.dirtyServices.clear();
    this.dirtyEndpoints.clear();

    const servicePorts = new Map(prev.servicePorts);
    const dns = new Map(prev.dns);
    const changed = new Set<string>();
    const deleted = new Set<string>();
    const opts = { node, preferSameNode: this.opts.preferSameNode ?? true };
    for (const svcId of dirty) {
      const oldKeys = this.portKeysByService.get(svcId) ?? [];
      const svc = this.services.get(svcId);
      const slices = [...(this.slicesByService.get(svcId)?.values() ?? [])];
      const ports: ServicePortState[] = svc ? buildServicePorts(svc, slices, opts) : [];
      if (svc) dns.set(svcId, dnsView(svc, slices));
      else dns.delete(svcId);
      const newKeys = new Set<string>();
      for (const sp of ports) {
        newKeys.add(sp.key);
        const old = prev.servicePorts.get(sp.key);
        if (!old || !sameServicePort(old, sp)) {
          servicePorts.set(sp.key, sp);
          changed.add(sp.key);
        }
      }
      for (const k of oldKeys) {
        if (newKeys.has(k)) continue;
        servicePorts.delete(k);
        deleted.add(k);
      }
      if (newKeys.size > 0) this.portKeysByService.set(svcId, [...newKeys]);
      else this.portKeysByService.delete(svcId);
    }

    this.state = {
      generation: prev.generation + 1,
      node,
      nodeChanged: !sameNodeInfo(prev.node, node),
      servicePorts,
      services: this.publishServices(),
      dns,
      endpointSlices: this.publishSlices(all ? this.slicesByService.keys() : dirty),
      changed,
      deleted,
      errors: [...this.errors.values()].sort((a, b) => errorOrder(a).localeCompare(errorOrder(b))),
    };
    return this.state;
  }

  private publishServices(): ReadonlyMap<string, Service> {
    if (this.publishedServices.version !== this.servicesVersion) {
      this.publishedServices = { version: this.servicesVersion, map: new Map(this.services) };
    }
    return this.publishedServices.map;
  }

  private publishSlices(dirty: Iterable<string>): ReadonlyMap<string, readonly EndpointSlice[]> {
    if (this.publishedSlices.version !== this.slicesVersion) {
      const map = new Map(this.publishedSlices.map);
      for (const svcId of dirty) {
        const group = this.slicesByService.get(svcId);
        if (group && group.size > 0) map.set(svcId, [...group.values()]);
        else map.delete(svcId);
      }
      this.publishedSlices = { version: this.slicesVersion, map };
    }
    return this.publishedSlices.map;
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

function errorOrder(e: ObjectError): string {
  return `${e.kind}/${e.namespace}/${e.name}/${e.field}`;
}
