// Validation of the objects proxying depends on. Each validator turns an untrusted object
// into its normalised form, or reports the first problem as namespace/name, field, reason.
// Range checks that belong to allocation (is a nodePort inside the node-port range?) are
// not made here: kproxy programs whatever the API server accepted.
import { parseCIDR, parseIP, type IPFamily } from './ip.js';
import { internName as intern, NONE, orNone, sharedConditions } from './shared-values.js';
import {
  DEFAULT_AFFINITY_TIMEOUT,
  SERVICE_NAME_LABEL,
  TRIGGER_TIME_ANNOTATION,
  type EndpointSlice,
  type IPFamilyPolicy,
  type KubeObject,
  type LoadBalancerIngress,
  type Node,
  type Protocol,
  type Service,
  type ServiceAffinity,
  type ServicePortSpec,
  type ServiceType,
  type SliceEndpoint,
  type SlicePort,
  type TrafficPolicy,
} from './types.js';
import type { ObjectError } from '../util/errors.js';

export type Validated<T> = { ok: true; value: T } | { ok: false; error: ObjectError };

class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function fail(field: string, reason: string): never {
  throw new FieldError(field, reason);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) fail(field, `expected an object, got ${describe(v)}`);
  return v;
}

function arr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, `expected a list, got ${describe(v)}`);
  return v;
}

function str(v: unknown, field: string, dflt = ''): string {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') fail(field, `expected a string, got ${describe(v)}`);
  return v;
}

function bool(v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') fail(field, `expected true or false, got ${describe(v)}`);
  return v;
}

function int(v: unknown, field: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(field, `expected an integer, got ${describe(v)}`);
  return v;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  const o = obj(v, field);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') fail(`${field}[${k}]`, `expected a string, got ${describe(val)}`);
    out[k] = val;
  }
  return out;
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], dflt: T): T {
  const s = str(v, field, dflt);
  if (s === '') return dflt;
  if (!(allowed as readonly string[]).includes(s)) fail(field, `unsupported value "${s}": expected one of ${allowed.join(', ')}`);
  return s as T;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `"${v}"`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function ip(v: unknown, field: string, family?: IPFamily): { ip: string; family: IPFamily } {
  const s = str(v, field);
  const p = parseIP(s);
  if (!p) fail(field, `"${s}" is not a valid IP address`);
  if (family && p.family !== family) fail(field, `"${s}" is not an ${family} address`);
  return p;
}

function port(v: unknown, field: string): number {
  const n = int(v, field, NaN);
  if (Number.isNaN(n)) fail(field, 'required: a port number 1-65535');
  if (n < 1 || n > 65535) fail(field, `${n} is out of range: a port number is 1-65535`);
  return n;
}

/** What optionalPort returns, or undefined where it fails (no field name needed). */
function optionalPortValue(v: unknown): number | undefined {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined;
}

function optionalPort(v: unknown, field: string): number {
  const n = optionalPortValue(v);
  if (n !== undefined) return n;
  const m = int(v, field, 0); // fails for what is not an integer
  fail(field, `${m} is out of range: expected 1-65535, or 0/unset for none`);
}

function protocol(v: unknown, field: string): Protocol {
  const s = str(v, field, 'TCP');
  if (!(PROTOCOLS as readonly string[]).includes(s)) fail(field, `unsupported protocol "${s}": expected TCP, UDP or SCTP`);
  return s as Protocol;
}

/** What the API server requires of names: a Service's is a DNS-1035 label, others' DNS-1123 subdomains. */
const NAME_RULES = {
  label1035: { re: /^(?=.{1,63}$)[a-z]([-a-z0-9]*[a-z0-9])?$/, says: "a DNS-1035 label (at most 63 lower-case letters, digits and '-', starting with a letter)" },
  subdomain: { re: DNS1123_SUBDOMAIN, says: "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')" },
};

function meta(o: KubeObject, namespaced: boolean, rule: keyof typeof NAME_RULES = 'subdomain'): { name: string; namespace: string } {
  const m = obj(o.metadata, 'metadata');
  const name = str(m.name, 'metadata.name');
  if (!name) fail('metadata.name', 'required');
  // Names become DNS names and nft/iptables comments: refuse what the API server refuses.
  if (!NAME_RULES[rule].re.test(name)) fail('metadata.name', `"${name.slice(0, 80)}" is not ${NAME_RULES[rule].says}`);
  const namespace = namespaced ? str(m.namespace, 'metadata.namespace', 'default') || 'default' : '';
  if (namespaced && !(namespace.length <= 63 && DNS1123_LABEL.test(namespace))) {
    fail('metadata.namespace', `"${namespace.slice(0, 80)}" is not a DNS-1123 label (at most 63 lower-case letters, digits and '-')`);
  }
  return { name, namespace };
}

/** 0.0.0.0 and :: mean "every address" to a socket and to a rule: never a Service's address. */
function notUnspecified(p: { ip: string }, field: string): void {
  if (p.ip === '0.0.0.0' || p.ip === '::') fail(field, `"${p.ip}" is the unspecified address; it cannot be a Service address`);
}

function guard<T>(kind: string, o: KubeObject, namespaced: boolean, body: () => T): Validated<T> {
  const m = isObject(o.metadata) ? o.metadata : {};
  const id = {
    name: typeof m.name === 'string' ? m.name : '',
    namespace: namespaced ? (typeof m.namespace === 'string' && m.namespace) || 'default' : '',
  };
  try {
    return { ok: true, value: body() };
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    return { ok: false, error: { kind, namespace: id.namespace, name: id.name || '(unnamed)', field: e.field, reason: e.reason } };
  }
}

const EMPTY = Object.freeze({}) as Record<string, string>;
const orEmpty = (m: Record<string, string>): Record<string, string> => (Object.keys(m).length === 0 ? EMPTY : m);
const NO_AFFINITY: ServiceAffinity = Object.freeze({ type: 'None', timeoutSeconds: 0 });

// ---- Service ---------------------------------------------------------------------------

/**
 * Services validated once for everyone: validateServiceOnce remembers its result for that
 * very object, and validateService then returns it. The standalone source uses it for the
 * Services it hands on, which are validated again on their way (LoadBalancer management,
 * the change tracker) and would otherwise be held as two or three equal copies. Only for
 * objects that nobody changes afterwards.
 */
const validatedOnce = new WeakMap<KubeObject, Validated<Service>>();

export function validateServiceOnce(o: KubeObject): Validated<Service> {
  let v = validatedOnce.get(o);
  if (!v) validatedOnce.set(o, (v = validateService(o)));
  return v;
}

export function validateService(o: KubeObject): Validated<Service> {
  return validatedOnce.get(o) ?? checkService(o);
}

/**
 * validateServiceOnce for a Service with its allocation written in: `o` is the object that
 * gave `before` with at most spec.clusterIP, spec.clusterIPs, spec.ipFamilies,
 * spec.ports[].nodePort and spec.healthCheckNodePort written over (what ServiceAllocator
 * writes). Every other check reads only fields that are as they were, and passed; so only
 * the written fields are checked again (with checkService's own code), and the rest of the
 * result is before's. A written value that does not pass (an address of a family the policy
 * does not allow, a port that is not one) is left to the whole check, which reports it.
 */
export function validateAllocatedOnce(o: KubeObject, before: Service): Validated<Service> {
  let v = validatedOnce.get(o);
  if (!v) validatedOnce.set(o, (v = withAllocation(o, before) ?? checkService(o)));
  return v;
}

/** before with the written fields of o checked and taken in; null where a check fails. */
function withAllocation(o: KubeObject, before: Service): Validated<Service> | null {
  if (!isObject(o.spec)) return null; // an allocation written in always leaves an object
  const spec = o.spec;
  let addresses: ClusterAddresses;
  try {
    addresses = clusterAddresses(spec, before.type);
  } catch (e) {
    if (e instanceof FieldError) return null;
    throw e;
  }
  const list = spec.ports;
  if (before.ports.length > 0 && !(Array.isArray(list) && list.length === before.ports.length)) return null;
  let ports = before.ports;
  for (let i = 0; i < ports.length; i++) {
    const p = (list as unknown[])[i];
    const nodePort = isObject(p) ? optionalPortValue(p.nodePort) : undefined;
    if (nodePort === undefined) return null;
    if (nodePort === ports[i].nodePort) continue;
    if (ports === before.ports) ports = ports.slice();
    ports[i] = { ...ports[i], nodePort };
  }
  const healthCheckNodePort = optionalPortValue(spec.healthCheckNodePort);
  if (healthCheckNodePort === undefined) return null;
  const { headless, clusterIPs, ipFamilies, ipFamilyPolicy } = addresses;
  const same =
    headless === before.headless &&
    ipFamilyPolicy === before.ipFamilyPolicy &&
    sameStrings(clusterIPs, before.clusterIPs) &&
    sameStrings(ipFamilies, before.ipFamilies) &&
    ports === before.ports &&
    healthCheckNodePort === before.healthCheckNodePort;
  return { ok: true, value: same ? before : { ...before, headless, clusterIPs, ipFamilies, ipFamilyPolicy, ports, healthCheckNodePort } };
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface ClusterAddresses {
  headless: boolean;
  clusterIPs: string[];
  ipFamilies: IPFamily[];
  ipFamilyPolicy: IPFamilyPolicy;
}

/** Field names by index, written once for the first few (every Service would build them). */
function indexedField(prefix: string): (i: number) => string {
  const made = Array.from({ length: 4 }, (_, i) => `${prefix}[${i}]`);
  return (i) => made[i] ?? `${prefix}[${i}]`;
}
const clusterIPsField = indexedField('spec.clusterIPs');
const ipFamiliesField = indexedField('spec.ipFamilies');
const FAMILIES = ['IPv4', 'IPv6'] as const;
const FAMILY_POLICIES = ['SingleStack', 'PreferDualStack', 'RequireDualStack'] as const;

/** spec.clusterIP(s), spec.ipFamilies and spec.ipFamilyPolicy, checked against each other. */
function clusterAddresses(spec: Record<string, unknown>, type: ServiceType): ClusterAddresses {
  const clusterIP = str(spec.clusterIP, 'spec.clusterIP');
  const rawIPs = arr(spec.clusterIPs, 'spec.clusterIPs').map((v, i) => str(v, clusterIPsField(i)));
  if (clusterIP && rawIPs.length > 0 && rawIPs[0] !== clusterIP) {
    fail('spec.clusterIPs[0]', `must equal spec.clusterIP ("${clusterIP}"), got "${rawIPs[0]}"`);
  }
  const ipTexts = rawIPs.length > 0 ? rawIPs : clusterIP ? [clusterIP] : [];
  const headless = ipTexts[0] === 'None';
  if (headless && ipTexts.length > 1) fail('spec.clusterIPs', 'a headless Service has only "None"');
  if (type === 'ExternalName' && !headless && ipTexts.length > 0) {
    fail('spec.clusterIP', 'must be unset for an ExternalName Service');
  }
  if (ipTexts.length > 2) fail('spec.clusterIPs', 'at most two addresses (one per IP family)');
  const clusterIPs: string[] = [];
  const families: IPFamily[] = [];
  if (!headless) {
    ipTexts.forEach((t, i) => {
      const field = rawIPs.length > 0 ? clusterIPsField(i) : 'spec.clusterIP';
      const p = ip(t, field);
      notUnspecified(p, field);
      if (families.includes(p.family)) fail(clusterIPsField(i), 'a dual-stack Service needs one address of each family');
      clusterIPs.push(p.ip);
      families.push(p.family);
    });
  }
  const ipFamilies = arr(spec.ipFamilies, 'spec.ipFamilies').map((v, i) => oneOf(v, ipFamiliesField(i), FAMILIES, 'IPv4'));
  if (ipFamilies.length > 2 || new Set(ipFamilies).size !== ipFamilies.length) {
    fail('spec.ipFamilies', 'at most one of each family');
  }
  families.forEach((f, i) => {
    if (ipFamilies.length > i && ipFamilies[i] !== f) {
      fail(ipFamiliesField(i), `"${ipFamilies[i]}" does not match spec.clusterIPs[${i}] (${f})`);
    }
  });
  const ipFamilyPolicy = oneOf(spec.ipFamilyPolicy, 'spec.ipFamilyPolicy', FAMILY_POLICIES, 'SingleStack');
  if (ipFamilyPolicy === 'SingleStack' && clusterIPs.length > 1) {
    fail('spec.ipFamilyPolicy', 'SingleStack allows one cluster IP; use PreferDualStack or RequireDualStack');
  }
  return {
    headless,
    // Arrays grown by push keep room for 17 elements (~120 bytes each); a Service lives long
    // and 10,000s of them are kept: copies at their exact length.
    clusterIPs: clusterIPs.slice(),
    ipFamilies: families.length > 0 ? families.slice() : ipFamilies,
    ipFamilyPolicy,
  };
}

function checkService(o: KubeObject): Validated<Service> {
  return guard('Service', o, true, () => {
    const { name, namespace } = meta(o, true, 'label1035');
    const m = obj(o.metadata, 'metadata');
    const spec = obj(o.spec, 'spec');
    const status = obj(o.status, 'status');
    const type = oneOf(spec.type, 'spec.type', SERVICE_TYPES, 'ClusterIP');

    const { headless, clusterIPs, ipFamilies, ipFamilyPolicy } = clusterAddresses(spec, type);

    // ports
    const ports: ServicePortSpec[] = [];
    const seen = new Set<string>();
    const portList = arr(spec.ports, 'spec.ports');
    portList.forEach((raw, i) => {
      const f = `spec.ports[${i}]`;
      const p = obj(raw, f);
      const pname = str(p.name, `${f}.name`);
      if (pname && !IANA_SVC_NAME.test(pname) && !DNS1123_LABEL.test(pname)) {
        fail(`${f}.name`, `"${pname}" is not a valid port name (lower-case letters, digits and '-')`);
      }
      if (portList.length > 1 && !pname) fail(`${f}.name`, 'required when a Service has more than one port');
      if (seen.has(pname)) fail(`${f}.name`, `duplicate port name "${pname}"`);
      seen.add(pname);
      let targetPort: number | string | null = null;
      if (typeof p.targetPort === 'string' && !/^\d+$/.test(p.targetPort)) {
        if (!IANA_SVC_NAME.test(p.targetPort)) fail(`${f}.targetPort`, `"${p.targetPort}" is neither a port number nor a valid port name`);
        targetPort = p.targetPort;
      } else if (p.targetPort !== undefined && p.targetPort !== null) {
        targetPort = port(typeof p.targetPort === 'string' ? parseInt(p.targetPort, 10) : p.targetPort, `${f}.targetPort`);
      }
      // A nodePort on a ClusterIP Service is ignored by the model, as kube-proxy ignores it.
      const nodePort = optionalPort(p.nodePort, `${f}.nodePort`);
      ports.push({
        name: pname,
        protocol: protocol(p.protocol, `${f}.protocol`),
        port: port(p.port, `${f}.port`),
        targetPort,
        nodePort,
        appProtocol: typeof p.appProtocol === 'string' ? p.appProtocol : undefined,
      });
    });

    const externalIPs = arr(spec.externalIPs, 'spec.externalIPs').map((v, i) => {
      const p = ip(v, `spec.externalIPs[${i}]`);
      notUnspecified(p, `spec.externalIPs[${i}]`);
      return p.ip;
    });

    const externalName = str(spec.externalName, 'spec.externalName').toLowerCase().replace(/\.$/, '');
    if (type === 'ExternalName' && !DNS1123_SUBDOMAIN.test(externalName)) {
      fail('spec.externalName', externalName ? `"${externalName}" is not a valid DNS name` : 'required for type ExternalName');
    }

    const lbStatus = obj(status.loadBalancer, 'status.loadBalancer');
    const loadBalancerIngress: LoadBalancerIngress[] = [];
    arr(lbStatus.ingress, 'status.loadBalancer.ingress').forEach((raw, i) => {
      const f = `status.loadBalancer.ingress[${i}]`;
      const ing = obj(raw, f);
      const ipMode = oneOf(ing.ipMode, `${f}.ipMode`, ['VIP', 'Proxy'] as const, 'VIP');
      if (ing.ip === undefined || ing.ip === null || ing.ip === '') return; // hostname-only ingress
      const p = ip(ing.ip, `${f}.ip`);
      loadBalancerIngress.push({ ip: p.ip, family: p.family, ipMode, hostname: typeof ing.hostname === 'string' ? ing.hostname : undefined });
    });

    const loadBalancerSourceRanges = arr(spec.loadBalancerSourceRanges, 'spec.loadBalancerSourceRanges').map((v, i) => {
      const s = str(v, `spec.loadBalancerSourceRanges[${i}]`);
      const c = parseCIDR(s);
      if (!c) fail(`spec.loadBalancerSourceRanges[${i}]`, `"${s}" is not a valid CIDR (expected e.g. 203.0.113.0/24)`);
      return c.cidr;
    });

    const policies = ['Cluster', 'Local'] as const;
    const externalTrafficPolicy: TrafficPolicy = oneOf(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', policies, 'Cluster');
    const internalTrafficPolicy: TrafficPolicy = oneOf(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', policies, 'Cluster');
    const healthCheckNodePort = optionalPort(spec.healthCheckNodePort, 'spec.healthCheckNodePort');

    const affinityType = oneOf(spec.sessionAffinity, 'spec.sessionAffinity', ['None', 'ClientIP'] as const, 'None');
    const clientIP = obj(obj(spec.sessionAffinityConfig, 'spec.sessionAffinityConfig').clientIP, 'spec.sessionAffinityConfig.clientIP');
    const timeoutSeconds = int(clientIP.timeoutSeconds, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', DEFAULT_AFFINITY_TIMEOUT);
    if (timeoutSeconds < 1 || timeoutSeconds > 86400) {
      fail('spec.sessionAffinityConfig.clientIP.timeoutSeconds', `${timeoutSeconds} is out of range: expected 1-86400 seconds`);
    }

    const trafficDistribution = str(spec.trafficDistribution, 'spec.trafficDistribution');
    const selectorRaw = spec.selector === undefined || spec.selector === null ? null : stringMap(spec.selector, 'spec.selector');

    return {
      namespace,
      name,
      uid: str(m.uid, 'metadata.uid'),
      labels: orEmpty(stringMap(m.labels, 'metadata.labels')),
      annotations: orEmpty(stringMap(m.annotations, 'metadata.annotations')),
      type,
      headless,
      clusterIPs,
      ipFamilies,
      ipFamilyPolicy,
      // Arrays grown by push keep room for 17 elements (~120 bytes each): a copy at its length.
      ports: ports.slice(),
      selector: selectorRaw && Object.keys(selectorRaw).length > 0 ? selectorRaw : null,
      externalIPs: orNone(externalIPs),
      externalName: type === 'ExternalName' ? externalName : '',
      loadBalancerIngress: loadBalancerIngress.length > 0 ? loadBalancerIngress : (NONE as never[]),
      loadBalancerSourceRanges: orNone(loadBalancerSourceRanges),
      externalTrafficPolicy,
      internalTrafficPolicy,
      healthCheckNodePort,
      sessionAffinity: affinityType === 'ClientIP' ? { type: affinityType, timeoutSeconds } : NO_AFFINITY,
      publishNotReadyAddresses: bool(spec.publishNotReadyAddresses, 'spec.publishNotReadyAddresses', false),
      trafficDistribution,
      allocateLoadBalancerNodePorts: bool(spec.allocateLoadBalancerNodePorts, 'spec.allocateLoadBalancerNodePorts', true),
    };
  });
}

// ---- EndpointSlice ---------------------------------------------------------------------

export function validateEndpointSlice(o: KubeObject): Validated<EndpointSlice> {
  return guard('EndpointSlice', o, true, () => {
    const { name, namespace } = meta(o, true);
    const m = obj(o.metadata, 'metadata');
    const labels = stringMap(m.labels, 'metadata.labels');
    const annotations = stringMap(m.annotations, 'metadata.annotations');
    const serviceName = labels[SERVICE_NAME_LABEL] ?? '';
    if (!serviceName) fail(`metadata.labels[${SERVICE_NAME_LABEL}]`, 'required: the name of the Service this slice belongs to');
    const addressType = oneOf(o.addressType, 'addressType', ['IPv4', 'IPv6', 'FQDN'] as const, 'IPv4');
    if (o.addressType === undefined) fail('addressType', 'required: IPv4, IPv6 or FQDN');

    const endpoints: SliceEndpoint[] = arr(o.endpoints, 'endpoints').map((raw, i) => {
      const f = `endpoints[${i}]`;
      const e = obj(raw, f);
      const addresses = arr(e.addresses, `${f}.addresses`).map((a, j) => (addressType === 'FQDN' ? str(a, `${f}.addresses[${j}]`) : ip(a, `${f}.addresses[${j}]`, addressType).ip));
      if (addresses.length === 0) fail(`${f}.addresses`, 'at least one address is required');
      const c = obj(e.conditions, `${f}.conditions`);
      const ready = bool(c.ready, `${f}.conditions.ready`, true);
      const hints = obj(e.hints, `${f}.hints`);
      const hintNames = (field: string) => arr(hints[field], `${f}.hints.${field}`).map((h, j) => str(obj(h, `${f}.hints.${field}[${j}]`).name, `${f}.hints.${field}[${j}].name`));
      if (e.targetRef !== undefined) obj(e.targetRef, `${f}.targetRef`); // checked, not kept: nothing reads it
      return {
        addresses,
        conditions: sharedConditions(ready, bool(c.serving, `${f}.conditions.serving`, ready), bool(c.terminating, `${f}.conditions.terminating`, false)),
        hostname: str(e.hostname, `${f}.hostname`),
        nodeName: intern(str(e.nodeName, `${f}.nodeName`)),
        zone: intern(str(e.zone, `${f}.zone`)),
        zoneHints: orNone(hintNames('forZones')),
        nodeHints: orNone(hintNames('forNodes')),
      };
    });

    const ports: SlicePort[] = [];
    arr(o.ports, 'ports').forEach((raw, i) => {
      const f = `ports[${i}]`;
      const p = obj(raw, f);
      if (p.port === undefined || p.port === null) return; // "all ports": not proxied, as upstream
      ports.push({
        name: str(p.name, `${f}.name`),
        protocol: protocol(p.protocol, `${f}.protocol`),
        port: port(p.port, `${f}.port`),
        appProtocol: typeof p.appProtocol === 'string' ? p.appProtocol : undefined,
      });
    });

    const trigger = annotations[TRIGGER_TIME_ANNOTATION];
    const triggerTime = trigger ? Date.parse(trigger) : NaN;
    return { namespace, name, serviceName, addressType, endpoints, ports, labels, triggerTime: Number.isNaN(triggerTime) ? null : triggerTime };
  });
}

// ---- Node ------------------------------------------------------------------------------

export function validateNode(o: KubeObject): Validated<Node> {
  return guard('Node', o, false, () => {
    const { name } = meta(o, false);
    const m = obj(o.metadata, 'metadata');
    const spec = obj(o.spec, 'spec');
    const status = obj(o.status, 'status');
    const addresses = arr(status.addresses, 'status.addresses').map((raw, i) => {
      const a = obj(raw, `status.addresses[${i}]`);
      const type = str(a.type, `status.addresses[${i}].type`);
      let address = str(a.address, `status.addresses[${i}].address`);
      if (type === 'InternalIP' || type === 'ExternalIP') address = ip(address, `status.addresses[${i}].address`).ip;
      return { type, address };
    });
    const families = new Set<string>();
    const podCIDRs = arr(spec.podCIDRs, 'spec.podCIDRs').map((v, i) => {
      const s = str(v, `spec.podCIDRs[${i}]`);
      const c = parseCIDR(s);
      if (!c) fail(`spec.podCIDRs[${i}]`, `"${s}" is not a valid CIDR`);
      // As the API server: one per family (which pods are local must not be a guess).
      if (families.has(c.family)) fail(`spec.podCIDRs[${i}]`, `a second ${c.family} CIDR; a Node has at most one pod CIDR of each IP family`);
      families.add(c.family);
      return c.cidr;
    });
    const podCIDR = str(spec.podCIDR, 'spec.podCIDR');
    if (podCIDRs.length === 0 && podCIDR) {
      const c = parseCIDR(podCIDR);
      if (!c) fail('spec.podCIDR', `"${podCIDR}" is not a valid CIDR`);
      podCIDRs.push(c.cidr);
    }
    const taints = arr(spec.taints, 'spec.taints').map((raw, i) => {
      const t = obj(raw, `spec.taints[${i}]`);
      return { key: str(t.key, `spec.taints[${i}].key`), effect: str(t.effect, `spec.taints[${i}].effect`), value: typeof t.value === 'string' ? t.value : undefined };
    });
    return {
      name,
      labels: stringMap(m.labels, 'metadata.labels'),
      addresses,
      podCIDRs,
      deleting: m.deletionTimestamp !== undefined && m.deletionTimestamp !== null,
      taints,
    };
  });
}
