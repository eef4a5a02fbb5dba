// The EndpointSlices the Kubernetes EndpointSlice controller would write for one Service,
// from the Pods its selector matches. A pure function of its inputs:
//  - Pods that are terminal (Succeeded/Failed) or have no IP of the slice's family are left out;
//  - conditions: serving = Pod ready; terminating = Pod deleting; ready = serving and not
//    terminating, or always true with publishNotReadyAddresses;
//  - targetPort is resolved per Pod (a named port may be a different number in each Pod;
//    a Pod that lacks the name simply lacks that port), and endpoints are grouped into
//    slices by their resolved port set, one address type per slice, at most 100 per slice;
//  - nodeName, zone (the Node's topology.kubernetes.io/zone label), hostname when the Pod's
//    subdomain names the Service, targetRef to the Pod;
//  - trafficDistribution PreferClose/PreferSameZone: ready endpoints with a zone get a hint
//    for their own zone; PreferSameNode also gets a hint for their own node;
//  - a Service whose selector matches nothing gets one empty placeholder slice.
// Names are "<service>-<5 chars>", deterministic (a hash of what the slice holds) where the
// API server would add 5 random characters to the controller's generateName.
import { HEADLESS_LABEL, SERVICE_NAME_LABEL, type EndpointSlice, type KubeObject, type Protocol, type Service, type SliceEndpoint, type SlicePort } from '../../api/types.js';
import { NONE, sharedConditions } from '../../api/shared-values.js';
import type { IPFamily } from '../../api/ip.js';
import { findNamedPort, type Container, type Pod } from './pod.js';
import { sha256Latin1 } from '../../util/sha256-base32.js';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SlicePodView {
  pod: Pod;
  ready: boolean;
  terminating: boolean;
}

export interface SliceContext {
  /** Zone label of a Node by name ("" when unknown). */
  zoneOf: (nodeName: string) => string;
  maxEndpointsPerSlice?: number;
}

interface EndpointPort {
  name: string;
  port: number;
  protocol: Protocol;
  appProtocol?: string;
}

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'; // the API server's generateName alphabet

function suffix(key: string): string {
  const d = sha256Latin1(key); // one-shot, no Buffer: character i is byte i of the digest
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[d.charCodeAt(i) % NAME_ALPHABET.length];
  return s;
}

/** generateName "<service>-", truncated as the API server does to leave room for 5 characters. */
function slicePrefix(service: string): string {
  const base = `${service}-`;
  return base.length > 58 ? base.slice(0, 58) : base;
}

export function addressTypesOf(svc: Service): IPFamily[] {
  if (svc.ipFamilies.length > 0) return [...svc.ipFamilies];
  if (svc.clusterIPs.length > 0) return svc.clusterIPs.map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4'));
  return ['IPv4', 'IPv6']; // headless without families: both, as upstream
}

export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

function endpointPorts(svc: Service, containers: readonly Container[]): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.ports) {
    let port: number | null;
    if (sp.targetPort === null) port = sp.port;
    else if (typeof sp.targetPort === 'number') port = sp.targetPort;
    else port = findNamedPort(containers, sp.targetPort, sp.protocol);
    if (port === null) continue;
    const p: EndpointPort = { name: sp.name, port, protocol: sp.protocol };
    if (sp.appProtocol !== undefined) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

/** The first address of the family, or undefined (no closure per Pod). */
function firstOfFamily(ips: readonly string[], family: IPFamily): string | undefined {
  for (const a of ips) if ((a.includes(':') ? 'IPv6' : 'IPv4') === family) return a;
  return undefined;
}

/**
 * One slice to write: its name, address type, ports and endpoints, the endpoints already in
 * the model's validated form (each Pod's own, for the targetRef of the API object).
 */
interface PlannedSlice {
  name: string;
  addressType: IPFamily;
  ports: EndpointPort[];
  endpoints: SliceEndpoint[];
  pods: Pod[];
}

/**
 * What the slices of a Service hold, in a stable order; [] for a Service without a
 * selector. Both writers below render this one plan, so the raw objects and the model's
 * slices cannot disagree.
 */
function planSlices(svc: Service, pods: readonly SlicePodView[], ctx: SliceContext): PlannedSlice[] {
  if (svc.selector === null || svc.type === 'ExternalName') return [];
  const max = ctx.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const hints = svc.trafficDistribution;
  const zoneHints = hints === 'PreferClose' || hints === 'PreferSameZone' || hints === 'PreferSameNode';
  const nodeHints = hints === 'PreferSameNode';

  // Group endpoints by (address type, resolved ports).
  const groups = new Map<string, { addressType: IPFamily; ports: EndpointPort[]; endpoints: SliceEndpoint[]; pods: Pod[] }>();
  const sorted = [...pods].sort((a, b) => (a.pod.name < b.pod.name ? -1 : a.pod.name > b.pod.name ? 1 : 0));
  for (const addressType of addressTypesOf(svc)) {
    // The resolved ports depend on the Service and the Pod's containers alone, and Pods share
    // equal container lists (shared.ts): resolved once per list, not once per Pod.
    const byContainers = new Map<readonly Container[], { ports: EndpointPort[]; key: string }>();
    for (const { pod, ready: podReady, terminating } of sorted) {
      if (pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
      const ip = firstOfFamily(pod.ips, addressType);
      if (!ip) continue;
      let resolved = byContainers.get(pod.containers);
      if (!resolved) {
        const ports = endpointPorts(svc, pod.containers);
        const key = `${addressType}|${ports.map((p) => `${p.name}/${p.protocol}/${p.port}/${p.appProtocol ?? ''}`).join(',')}`;
        byContainers.set(pod.containers, (resolved = { ports, key }));
      }
      const { ports, key } = resolved;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { addressType, ports, endpoints: [], pods: [] }));
      const serving = podReady;
      const ready = svc.publishNotReadyAddresses || (serving && !terminating);
      const zone = pod.nodeName ? ctx.zoneOf(pod.nodeName) : '';
      const hinted = ready && (zoneHints || nodeHints);
      // Node names and zones are shared strings already (the Pod's, the Node label's).
      g.endpoints.push({
        addresses: pod.ips.length === 1 ? pod.ips : [ip], // the Pod's own (frozen) one-address list: 56 bytes less per endpoint
        conditions: sharedConditions(ready, serving, terminating),
        hostname: pod.hostname && pod.subdomain === svc.name ? pod.hostname : '',
        nodeName: pod.nodeName,
        zone,
        zoneHints: hinted && zoneHints && zone ? [zone] : NONE,
        nodeHints: hinted && nodeHints && pod.nodeName ? [pod.nodeName] : NONE,
      });
      g.pods.push(pod);
    }
  }

  const planned: PlannedSlice[] = [];
  const id = `${svc.namespace}/${svc.name}`;
  for (const [key, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (let i = 0, chunk = 0; i < g.endpoints.length; i += max, chunk++) {
      const name = `${slicePrefix(svc.name)}${suffix(`${id}|${key}|${chunk}`)}`;
      planned.push({ name, addressType: g.addressType, ports: g.ports, endpoints: g.endpoints.slice(i, i + max), pods: g.pods.slice(i, i + max) });
    }
  }
  if (planned.length === 0) {
    planned.push({ name: `${slicePrefix(svc.name)}${suffix(`${id}|placeholder`)}`, addressType: addressTypesOf(svc)[0], ports: [], endpoints: [], pods: [] });
  }
  return planned;
}

/** The desired slices of a Service as API objects, as an API server would hold them. */
export function buildEndpointSlices(svc: Service, pods: readonly SlicePodView[], ctx: SliceContext): KubeObject[] {
  return planSlices(svc, pods, ctx).map((p) => sliceObject(svc, p));
}

/**
 * The same slices in the model's validated form (what validateEndpointSlice makes of the
 * objects above, with the trigger time given), for a sink that takes them directly: nothing to
 * validate, and no raw objects to allocate and drop. Every part of them comes from a
 * validated Service and validated Pods.
 */
export function buildEndpointSliceModels(svc: Service, pods: readonly SlicePodView[], ctx: SliceContext, triggerTime: number | null = null): EndpointSlice[] {
  const plan = planSlices(svc, pods, ctx);
  if (plan.length === 0) return [];
  const labels = sliceLabels(svc);
  return plan.map((p) => ({
    namespace: svc.namespace,
    name: p.name,
    serviceName: svc.name,
    addressType: p.addressType,
    endpoints: p.endpoints,
    ports: p.ports.map((q): SlicePort => ({ name: q.name, protocol: q.protocol, port: q.port, appProtocol: q.appProtocol })),
    labels,
    triggerTime,
  }));
}

function sliceLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.labels)) if (k !== SERVICE_NAME_LABEL && k !== MANAGED_BY_LABEL) labels[k] = v;
  labels[SERVICE_NAME_LABEL] = svc.name;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  if (svc.headless) labels[HEADLESS_LABEL] = '';
  return labels;
}

function sliceObject(svc: Service, p: PlannedSlice): KubeObject {
  const owner: Record<string, unknown> = { apiVersion: 'v1', kind: 'Service', name: svc.name, controller: true, blockOwnerDeletion: true };
  if (svc.uid) owner.uid = svc.uid;
  const endpoints = p.endpoints.map((e, i) => {
    const pod = p.pods[i];
    const { ready, serving, terminating } = e.conditions;
    const ep: Record<string, unknown> = { addresses: [...e.addresses], conditions: { ready, serving, terminating } };
    if (e.hostname) ep.hostname = e.hostname;
    if (e.nodeName) ep.nodeName = e.nodeName;
    if (e.zone) ep.zone = e.zone;
    if (e.zoneHints.length > 0 || e.nodeHints.length > 0) {
      const h: Record<string, unknown> = {};
      if (e.zoneHints.length > 0) h.forZones = e.zoneHints.map((name) => ({ name }));
      if (e.nodeHints.length > 0) h.forNodes = e.nodeHints.map((name) => ({ name }));
      ep.hints = h;
    }
    ep.targetRef = { kind: 'Pod', namespace: pod.namespace, name: pod.name, ...(pod.uid ? { uid: pod.uid } : {}) };
    return ep;
  });
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: p.name, namespace: svc.namespace, labels: sliceLabels(svc), ownerReferences: [owner] },
    addressType: p.addressType,
    endpoints,
    ports: p.ports,
  };
}
