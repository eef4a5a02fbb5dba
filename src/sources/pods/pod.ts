// v1.Pod as standalone mode reads it: a process already running somewhere, described by its
// labels, node, addresses, named container ports and readiness probes. Only the fields the
// endpoint controller and the prober use are read; a bad field is reported with the Pod's
// namespace/name and the field's path, as for every other object.
import { parseIP } from '../../api/ip.js';
import type { KubeObject, Protocol } from '../../api/types.js';
import type { ObjectError } from '../../util/errors.js';
import { intern, lastSharedLabels, sharedContainers, sharedLabels } from './shared.js';

export interface ContainerPort {
  name: string;
  containerPort: number;
  protocol: Protocol;
}

export type ProbeHandler =
  | { type: 'httpGet'; scheme: 'HTTP' | 'HTTPS'; host: string; port: number | string; path: string; headers: [string, string][] }
  | { type: 'tcpSocket'; host: string; port: number | string }
  | { type: 'grpc'; port: number; service: string }
  | { type: 'exec' };

export interface ProbeSpec {
  handler: ProbeHandler;
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface Container {
  name: string;
  ports: ContainerPort[];
  readinessProbe: ProbeSpec | null;
}

export interface Pod {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  nodeName: string;
  hostname: string;
  subdomain: string;
  /** Canonical pod IPs, primary first (status.podIPs, else status.podIP). */
  ips: string[];
  phase: string;
  containers: Container[];
  /** metadata.deletionTimestamp is set. */
  deleting: boolean;
  /** How long the Pod stays terminating: deletionGracePeriodSeconds, else spec.terminationGracePeriodSeconds, else 30. */
  gracePeriodSeconds: number;
  /** status.conditions Ready, when the manifest states it (used by one-shot commands only). */
  statusReady: boolean | null;
}

export type PodResult = { ok: true; pod: Pod } | { ok: false; error: ObjectError };

class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, f: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new FieldError(f, 'expected an object');
  return v;
}
function list(v: unknown, f: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new FieldError(f, 'expected a list');
  return v;
}
function str(v: unknown, f: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new FieldError(f, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}
/**
 * The longest delay a Node timer can hold (2^31-1 ms, 24.8 days), in seconds: a longer one
 * fires after 1 ms instead, which would turn a long probe period into a probe storm.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function int(v: unknown, f: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FieldError(f, `expected an integer, got ${JSON.stringify(v)}`);
  if (v < min) throw new FieldError(f, `${v} is out of range: must be at least ${min}`);
  if (v > max) throw new FieldError(f, `${v} is out of range: at most ${max} seconds (24.8 days, the longest timer kproxy can keep)`);
  return v;
}
function portRef(v: unknown, f: string): number | string {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return portRef(Number(v), f);
  if (typeof v === 'string' && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) && v.length <= 15) return v;
  throw new FieldError(f, `expected a port number 1-65535 or a container port name, got ${JSON.stringify(v)}`);
}

function probe(v: unknown, f: string): ProbeSpec | null {
  if (v === undefined || v === null) return null;
  const p = obj(v, f);
  let handler: ProbeHandler;
  if (p.httpGet !== undefined) {
    const h = obj(p.httpGet, `${f}.httpGet`);
    const scheme = str(h.scheme, `${f}.httpGet.scheme`).toUpperCase() || 'HTTP';
    if (scheme !== 'HTTP' && scheme !== 'HTTPS') throw new FieldError(`${f}.httpGet.scheme`, `expected HTTP or HTTPS, got "${scheme}"`);
    let path = str(h.path, `${f}.httpGet.path`) || '/';
    if (!path.startsWith('/')) path = `/${path}`;
    const headers = list(h.httpHeaders, `${f}.httpGet.httpHeaders`).map((raw, i): [string, string] => {
      const hh = obj(raw, `${f}.httpGet.httpHeaders[${i}]`);
      const name = str(hh.name, `${f}.httpGet.httpHeaders[${i}].name`);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new FieldError(`${f}.httpGet.httpHeaders[${i}].name`, `"${name}" is not a valid HTTP header name`);
      const value = str(hh.value, `${f}.httpGet.httpHeaders[${i}].value`);
      if (/[\r\n]/.test(value)) throw new FieldError(`${f}.httpGet.httpHeaders[${i}].value`, 'may not contain line breaks');
      return [name, value];
    });
    handler = { type: 'httpGet', scheme, host: str(h.host, `${f}.httpGet.host`), port: portRef(h.port, `${f}.httpGet.port`), path, headers };
    if (/[\s]/.test(path)) throw new FieldError(`${f}.httpGet.path`, 'may not contain whitespace');
  } else if (p.tcpSocket !== undefined) {
    const t = obj(p.tcpSocket, `${f}.tcpSocket`);
    handler = { type: 'tcpSocket', host: str(t.host, `${f}.tcpSocket.host`), port: portRef(t.port, `${f}.tcpSocket.port`) };
  } else if (p.grpc !== undefined) {
    const g = obj(p.grpc, `${f}.grpc`);
    const port = portRef(g.port, `${f}.grpc.port`);
    if (typeof port !== 'number') throw new FieldError(`${f}.grpc.port`, 'must be a number (gRPC probes take no port names)');
    handler = { type: 'grpc', port, service: str(g.service, `${f}.grpc.service`) };
  } else if (p.exec !== undefined) {
    handler = { type: 'exec' };
  } else {
    throw new FieldError(f, 'one of httpGet, tcpSocket, grpc or exec is required');
  }
  const successThreshold = int(p.successThreshold, `${f}.successThreshold`, 1, 1);
  return {
    handler,
    initialDelaySeconds: int(p.initialDelaySeconds, `${f}.initialDelaySeconds`, 0, 0, MAX_TIMER_SECONDS),
    periodSeconds: int(p.periodSeconds, `${f}.periodSeconds`, 10, 1, MAX_TIMER_SECONDS),
    timeoutSeconds: int(p.timeoutSeconds, `${f}.timeoutSeconds`, 1, 1, MAX_TIMER_SECONDS),
    successThreshold,
    failureThreshold: int(p.failureThreshold, `${f}.failureThreshold`, 3, 1),
  };
}

// The field paths of containers and their ports, made once per index rather than once per
// Pod (a folder of 100,000 Pods would build ten strings per Pod that only an error reads).
interface ContainerPaths {
  at: string;
  ports: string;
  name: string;
  readinessProbe: string;
}
interface PortPaths {
  at: string;
  containerPort: string;
  protocol: string;
  name: string;
}
const PATHS_KEPT = 64; // indexes beyond this (never seen in practice) get fresh strings
const containerPathList: ContainerPaths[] = [];
const portPathLists: PortPaths[][] = [];

function containerPaths(i: number): ContainerPaths {
  const known = i < PATHS_KEPT ? containerPathList[i] : undefined;
  if (known) return known;
  const at = `spec.containers[${i}]`;
  const made = { at, ports: `${at}.ports`, name: `${at}.name`, readinessProbe: `${at}.readinessProbe` };
  if (i < PATHS_KEPT) containerPathList[i] = made;
  return made;
}

function portPaths(i: number, j: number): PortPaths {
  const kept = i < PATHS_KEPT && j < PATHS_KEPT;
  const known = kept ? portPathLists[i]?.[j] : undefined;
  if (known) return known;
  const at = `spec.containers[${i}].ports[${j}]`;
  const made = { at, containerPort: `${at}.containerPort`, protocol: `${at}.protocol`, name: `${at}.name` };
  if (kept) (portPathLists[i] ??= [])[j] = made;
  return made;
}

export const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

/** Adds the canonical form of an IP text to ips (once); an empty text adds nothing. */
function addIP(ips: string[], v: unknown, f: string): void {
  const text = str(v, f);
  if (!text) return;
  const p = parseIP(text);
  if (!p) throw new FieldError(f, `"${text}" is not a valid IP address`);
  if (!ips.includes(p.ip)) ips.push(p.ip);
}

function containerPort(rp: unknown, i: number, j: number): ContainerPort {
  const pf = portPaths(i, j);
  const p = obj(rp, pf.at);
  const containerPort = int(p.containerPort, pf.containerPort, NaN, 1);
  if (Number.isNaN(containerPort) || containerPort > 65535) throw new FieldError(pf.containerPort, 'required: a port number 1-65535');
  const protocol = (str(p.protocol, pf.protocol) || 'TCP') as Protocol;
  if (!PROTOCOLS.includes(protocol)) throw new FieldError(pf.protocol, `expected TCP, UDP or SCTP, got "${protocol}"`);
  return { name: intern(str(p.name, pf.name)), containerPort, protocol };
}

function container(raw: unknown, i: number): Container {
  const f = containerPaths(i);
  const c = obj(raw, f.at);
  const rawPorts = list(c.ports, f.ports);
  const ports: ContainerPort[] = new Array(rawPorts.length);
  for (let j = 0; j < rawPorts.length; j++) ports[j] = containerPort(rawPorts[j], i, j);
  return { name: intern(str(c.name, f.name) || `container-${i}`), ports, readinessProbe: probe(c.readinessProbe, f.readinessProbe) };
}

/** The Pod's labels, checked, as the shared set of their pairs (also for fast-pod.ts). */
export function podLabels(raw: Record<string, unknown>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const k in raw) {
    if (!Object.prototype.hasOwnProperty.call(raw, k)) continue;
    const v = raw[k];
    if (typeof v !== 'string') throw new FieldError(`metadata.labels[${k}]`, `expected a string, got ${JSON.stringify(v)}`);
    labels[intern(k)] = intern(v);
  }
  return sharedLabels(labels);
}

export function validatePod(o: KubeObject): PodResult {
  const m = isObj(o.metadata) ? o.metadata : {};
  const name = typeof m.name === 'string' ? m.name : '';
  const namespace = (typeof m.namespace === 'string' && m.namespace) || 'default';
  try {
    if (!name) throw new FieldError('metadata.name', 'required');
    const rawLabels = obj(m.labels, 'metadata.labels');
    const labels = lastSharedLabels(rawLabels) ?? podLabels(rawLabels);
    const spec = obj(o.spec, 'spec');
    const status = obj(o.status, 'status');
    const ips: string[] = [];
    const podIPs = list(status.podIPs, 'status.podIPs');
    for (let i = 0; i < podIPs.length; i++) addIP(ips, obj(podIPs[i], `status.podIPs[${i}]`).ip, `status.podIPs[${i}].ip`);
    if (podIPs.length === 0) addIP(ips, status.podIP, 'status.podIP');

    const rawContainers = list(spec.containers, 'spec.containers');
    const containers: Container[] = new Array(rawContainers.length);
    for (let i = 0; i < rawContainers.length; i++) containers[i] = container(rawContainers[i], i);

    const deleting = m.deletionTimestamp !== undefined && m.deletionTimestamp !== null;
    const specGrace = int(spec.terminationGracePeriodSeconds, 'spec.terminationGracePeriodSeconds', 30, 0, MAX_TIMER_SECONDS);
    const gracePeriodSeconds = int(m.deletionGracePeriodSeconds, 'metadata.deletionGracePeriodSeconds', specGrace, 0, MAX_TIMER_SECONDS);
    let statusReady: boolean | null = null;
    for (const c of list(status.conditions, 'status.conditions')) {
      if (isObj(c) && c.type === 'Ready') statusReady = c.status === 'True';
    }
    return {
      ok: true,
      pod: {
        namespace: intern(namespace),
        name,
        uid: str(m.uid, 'metadata.uid'),
        labels,
        nodeName: intern(str(spec.nodeName, 'spec.nodeName')),
        hostname: str(spec.hostname, 'spec.hostname'),
        subdomain: intern(str(spec.subdomain, 'spec.subdomain')),
        // Exact length (an array grown by push keeps room for 17 elements), and frozen: a
        // one-address list is also the addresses of the Pod's endpoints (slices.ts).
        ips: Object.freeze(ips.length === 1 ? [ips[0]] : ips.slice()) as string[],
        phase: intern(str(status.phase, 'status.phase')),
        containers: sharedContainers(containers),
        deleting,
        gracePeriodSeconds,
        statusReady,
      },
    };
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    return { ok: false, error: { kind: 'Pod', namespace, name: name || '(unnamed)', field: e.field, reason: e.reason } };
  }
}

/** Finds a container port by name and protocol, as the kubelet and the endpoint controller do. */
export function findNamedPort(containers: readonly Container[], name: string, protocol: Protocol): number | null {
  for (const c of containers) for (const p of c.ports) if (p.name === name && p.protocol === protocol) return p.containerPort;
  return null;
}
