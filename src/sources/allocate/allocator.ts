// Cluster IP and NodePort allocation, as kube-apiserver does it for a standalone folder.
//
// Stability is the point: a Service keeps its address and ports across restarts and while
// other Services come and go. Two mechanisms give that:
//  - a Service's first choice is derived from a hash of its namespace/name (linear probing
//    on collision), so the same folder yields the same answer without any state;
//  - what a Service holds is remembered (and persisted by the caller, see state.ts), and
//    holders are served before newcomers, so a newcomer can never push a holder out.
// Order within one pass: (1) values a Service already holds, (1b) the cluster IPs of
// Services that are not holders, replayed oldest first (see createdAt), (2) values
// manifests set explicitly, oldest first, (3) new dynamic values. A value already taken is
// an error on the later Service alone; an explicit value outside the range is taken as
// given, with one warning.
//
// Without the holdings (the state file lost), "who held it" is rebuilt from age, as the API
// server would have decided it: the Service that existed first got the address and a later
// one that asked for it was refused. Replaying the Services oldest first gives every older
// Service its hash-derived address again, so a younger Service that writes that address in
// its manifest is the one refused, not the older one moved.
import type { IPFamily } from '../../api/ip.js';
import type { KubeObject, Service } from '../../api/types.js';
import type { ObjectError } from '../../util/errors.js';
import { addressRange, type AddressRange } from './range.js';
import type { ServiceAllocation } from './state.js';
import { sha256Latin1 } from '../../util/sha256-base32.js';

export interface AllocatorOptions {
  /** Service CIDRs, at most one per family; the first is the primary family. */
  serviceCIDRs: readonly string[];
  nodePortRange: { min: number; max: number };
  warn?: (message: string) => void;
}

export interface AllocationInput {
  id: string; // "namespace/name"
  raw: KubeObject;
  svc: Service;
  /**
   * When the Service came to exist, ms since the epoch (metadata.creationTimestamp, else when
   * its manifest file was written); unknown Services come after every known one.
   */
  createdAt?: number;
}

/**
 * `object` is the Service with its allocated values written in, built when first read (a
 * caller that already has it need not pay for it: see `same`). `same`: the allocation is the
 * one the Service held before this pass, so its object is what the previous pass gave for the
 * same input.
 */
export type AllocationResult = { ok: true; readonly object: KubeObject; allocation: ServiceAllocation; same: boolean } | { ok: false; error: ObjectError };

/** The default service CIDR when none is configured (see docs/standalone.md). */
export function defaultServiceCIDRs(mode: string): string[] {
  // Userspace mode binds every cluster IP as an ordinary socket. All of 127.0.0.0/8 is
  // local on Linux (the kernel's "local 127.0.0.0/8 dev lo" route), so any address in it
  // can be bound by an unprivileged user with no setup. Other modes: kube-apiserver's default.
  return mode === 'userspace' ? ['127.96.0.0/16'] : ['10.96.0.0/12'];
}

interface Plan {
  input: AllocationInput;
  families: IPFamily[];
  ips: (string | null)[]; // per family: explicit address or null (allocate)
  nodePorts: Map<number, number>; // service port number -> explicit node port or 0 (allocate)
  healthCheck: number | null; // null: none wanted; 0: allocate
  error: ObjectError | null;
}

function sameAllocation(a: ServiceAllocation | undefined, b: ServiceAllocation): boolean {
  if (!a || a.healthCheckNodePort !== b.healthCheckNodePort || a.clusterIPs.length !== b.clusterIPs.length) return false;
  if (a.clusterIPs.some((ip, i) => ip !== b.clusterIPs[i])) return false;
  const ports = Object.keys(a.nodePorts);
  return ports.length === Object.keys(b.nodePorts).length && ports.every((p) => a.nodePorts[p] === b.nodePorts[p]);
}

/** The first 8 bytes of sha256(key), big-endian, modulo size (one-shot digest, no Buffer). */
function hashOffset(key: string, size: bigint): bigint {
  const d = sha256Latin1(key);
  const word = (at: number) => ((d.charCodeAt(at) << 24) | (d.charCodeAt(at + 1) << 16) | (d.charCodeAt(at + 2) << 8) | d.charCodeAt(at + 3)) >>> 0;
  return ((BigInt(word(0)) << 32n) | BigInt(word(4))) % size;
}

/** A Service's allocation; its object is written when first read (see AllocationResult). */
class Allocated {
  readonly ok = true as const;
  private object_: KubeObject | undefined = undefined;

  constructor(
    private readonly plan: Plan,
    readonly allocation: ServiceAllocation,
    readonly same: boolean,
  ) {}

  get object(): KubeObject {
    return (this.object_ ??= written(this.plan));
  }
}

/**
 * A copy of an object's own properties, in their order, to add properties to. Object.assign
 * gives V8 an ordinary object to grow; properties added to a spread's copy took ~1 µs each
 * (a slow path). A key "__proto__" (a document may have one) would set the copy's prototype
 * through Object.assign: such an object is spread.
 */
function copyOf(o: Record<string, unknown>): Record<string, unknown> {
  return Object.prototype.hasOwnProperty.call(o, '__proto__') ? { ...o } : Object.assign({}, o);
}

/** The object as the API server would store it: the allocated values written in. */
function written(plan: Plan): KubeObject {
  const { raw, svc } = plan.input;
  const ips = plan.ips as string[];
  const ipsChanged = ips.length !== svc.clusterIPs.length;
  const portsChanged = svc.ports.some((p) => plan.nodePorts.has(p.port) && p.nodePort !== plan.nodePorts.get(p.port));
  const hcChanged = plan.healthCheck !== null && plan.healthCheck !== svc.healthCheckNodePort;
  if (!ipsChanged && !portsChanged && !hcChanged) return raw;
  const spec = copyOf((raw.spec as Record<string, unknown>) ?? {});
  if (ipsChanged) {
    spec.clusterIP = ips[0];
    spec.clusterIPs = ips.slice();
    spec.ipFamilies = plan.families.slice();
  }
  if (portsChanged && Array.isArray(spec.ports)) {
    spec.ports = (spec.ports as Record<string, unknown>[]).map((p, i) => {
      const np = plan.nodePorts.get(svc.ports[i].port);
      if (!np) return p;
      const written = copyOf(p);
      written.nodePort = np;
      return written;
    });
  }
  if (hcChanged) spec.healthCheckNodePort = plan.healthCheck;
  return { ...raw, spec };
}

export class ServiceAllocator {
  private readonly ranges = new Map<IPFamily, AddressRange>();
  private readonly primary: IPFamily;
  private held = new Map<string, ServiceAllocation>();
  private readonly warned = new Set<string>();
  private holdingsChanged = false;

  constructor(
    private readonly opts: AllocatorOptions,
    held?: ReadonlyMap<string, ServiceAllocation>,
  ) {
    for (const c of opts.serviceCIDRs) {
      const r = addressRange(c);
      if (!this.ranges.has(r.family)) this.ranges.set(r.family, r);
    }
    this.primary = this.ranges.keys().next().value ?? 'IPv4';
    if (held) this.held = new Map(held);
  }

  /** What each Service holds after the last pass (persist this). */
  holdings(): ReadonlyMap<string, ServiceAllocation> {
    return this.held;
  }

  /** Whether the last pass changed the holdings (an id, or what one holds; not their order). */
  changed(): boolean {
    return this.holdingsChanged;
  }

  /**
   * Allocates for every Service of the folder (in file order). keepAbsent: remember the
   * holdings of Services not in the list (their file may just be unreadable for a while).
   */
  assign(inputs: readonly AllocationInput[], keepAbsent = false): Map<string, AllocationResult> {
    const ipOwner = new Map<string, string>();
    const portOwner = new Map<number, string>();
    const plans = inputs.map((i) => this.plan(i));
    const claimIP = (ip: string, id: string) => {
      const o = ipOwner.get(ip);
      if (o !== undefined && o !== id) return o;
      ipOwner.set(ip, id);
      return null;
    };
    const claimPort = (p: number, id: string) => {
      const o = portOwner.get(p);
      if (o !== undefined && o !== id) return o;
      portOwner.set(p, id);
      return null;
    };
    const fail = (plan: Plan, field: string, reason: string) => {
      if (!plan.error) plan.error = { kind: 'Service', namespace: plan.input.svc.namespace, name: plan.input.svc.name, field, reason };
    };

    // (1) What holders keep: a value a Service already has, wanted again the same way.
    for (const plan of plans) {
      const h = this.held.get(plan.input.id);
      if (!h || plan.error) continue;
      plan.families.forEach((f, i) => {
        const want = plan.ips[i] ?? h.clusterIPs.find((ip) => familyOf(ip) === f && this.ranges.get(f)!.offsetOf(ip) >= 0n);
        if (want && h.clusterIPs.includes(want) && !claimIP(want, plan.input.id)) plan.ips[i] = want;
      });
      for (const [port, np] of plan.nodePorts) {
        const want = np || h.nodePorts[String(port)];
        if (want && (np !== 0 || this.inPortRange(want)) && h.nodePorts[String(port)] === want && !claimPort(want, plan.input.id)) plan.nodePorts.set(port, want);
      }
      if (plan.healthCheck !== null) {
        const want = plan.healthCheck || h.healthCheckNodePort;
        if (want && (plan.healthCheck !== 0 || this.inPortRange(want)) && h.healthCheckNodePort === want && !claimPort(want, plan.input.id)) plan.healthCheck = want;
      }
    }

    // Oldest first; Services of unknown age after them, in file order.
    const byAge = plans
      .map((plan, i) => ({ plan, i, at: plan.input.createdAt ?? Infinity }))
      .sort((x, y) => x.at - y.at || x.i - y.i)
      .map((x) => x.plan);

    // (1b) Replay: each Service of known age takes its cluster IP as it did when it was
    // created, skipping addresses older Services hold or wrote in their manifests.
    const olderExplicit = new Set<string>();
    for (const plan of byAge) {
      if (plan.input.createdAt === undefined) break;
      if (plan.error) continue;
      const { id, svc } = plan.input;
      const h = this.held.get(id);
      plan.families.forEach((f, i) => {
        if (plan.ips[i] !== null) return; // held (claimed in (1)) or explicit (claimed in (2), in this same order)
        if (h?.clusterIPs.some((ip) => familyOf(ip) === f)) return; // a holder whose old address is taken: (3)
        const range = this.ranges.get(f)!;
        const ip = this.probeIP(range, `${id}/${f}`, ipOwner, olderExplicit);
        if (!ip) return;
        ipOwner.set(ip, id);
        plan.ips[i] = ip;
      });
      for (const ip of svc.clusterIPs) olderExplicit.add(ip);
    }

    // (2) Explicit values from the manifests.
    for (const plan of byAge) {
      if (plan.error) continue;
      const { id, svc } = plan.input;
      const explicitIPs = new Set(svc.clusterIPs);
      plan.ips.forEach((ip, i) => {
        if (ip === null || !explicitIPs.has(ip)) return;
        const owner = claimIP(ip, id);
        if (owner) return fail(plan, svc.clusterIPs.length > 1 ? `spec.clusterIPs[${i}]` : 'spec.clusterIP', `${ip} is already allocated to Service ${owner}`);
        const range = this.ranges.get(plan.families[i]);
        if (!range || range.offsetOf(ip) < 0n) this.warnOnce(`${id}/${ip}`, `Service ${id}: spec.clusterIP ${ip} is outside the service CIDR (${this.cidrList()}); taken as given`);
      });
      svc.ports.forEach((p, i) => {
        if (!p.nodePort || !plan.nodePorts.has(p.port)) return;
        const owner = claimPort(p.nodePort, id);
        if (owner) return fail(plan, `spec.ports[${i}].nodePort`, `${p.nodePort} is already allocated to Service ${owner}`);
        if (!this.inPortRange(p.nodePort))
          this.warnOnce(`${id}/${p.nodePort}`, `Service ${id}: spec.ports[${i}].nodePort ${p.nodePort} is outside the node port range (${this.portRangeText()}); taken as given`);
      });
      if (plan.healthCheck) {
        const owner = claimPort(plan.healthCheck, id);
        if (owner) fail(plan, 'spec.healthCheckNodePort', `${plan.healthCheck} is already allocated to Service ${owner}`);
      }
    }

    // (3) New values: the previously held one if still free, else by hash with linear probing.
    for (const plan of plans) {
      if (plan.error) continue;
      const { id } = plan.input;
      const h = this.held.get(id);
      plan.families.forEach((f, i) => {
        if (plan.ips[i] !== null) return;
        const range = this.ranges.get(f)!;
        const before = h?.clusterIPs.find((ip) => familyOf(ip) === f && range.offsetOf(ip) >= 0n && !ipOwner.has(ip));
        const ip = before ?? this.probeIP(range, `${id}/${f}`, ipOwner);
        if (!ip) return fail(plan, 'spec.clusterIP', `the service CIDR ${range.cidr} is full`);
        ipOwner.set(ip, id);
        plan.ips[i] = ip;
      });
      for (const [port, np] of plan.nodePorts) {
        if (np !== 0) continue;
        const before = h?.nodePorts[String(port)];
        const chosen = before && this.inPortRange(before) && !portOwner.has(before) ? before : this.probePort(`${id}/${port}`, portOwner);
        if (!chosen) {
          fail(plan, 'spec.ports.nodePort', `the node port range ${this.portRangeText()} is full`);
          break;
        }
        portOwner.set(chosen, id);
        plan.nodePorts.set(port, chosen);
      }
      if (plan.healthCheck === 0 && !plan.error) {
        const before = h?.healthCheckNodePort;
        const chosen = before && this.inPortRange(before) && !portOwner.has(before) ? before : this.probePort(`${id}/healthCheckNodePort`, portOwner);
        if (!chosen) fail(plan, 'spec.healthCheckNodePort', `the node port range ${this.portRangeText()} is full`);
        else {
          portOwner.set(chosen, id);
          plan.healthCheck = chosen;
        }
      }
    }

    const results = new Map<string, AllocationResult>();
    const held = new Map<string, ServiceAllocation>();
    let changed = false; // an entry new or other than before (then, with as many entries: the same set)
    if (keepAbsent) {
      const present = new Set(inputs.map((i) => i.id));
      for (const [id, a] of this.held) if (!present.has(id)) held.set(id, a);
    }
    for (const plan of plans) {
      if (plan.error) {
        results.set(plan.input.id, { ok: false, error: plan.error });
        continue;
      }
      const allocation: ServiceAllocation = {
        clusterIPs: plan.ips as string[],
        nodePorts: Object.fromEntries([...plan.nodePorts].map(([k, v]) => [String(k), v])),
        healthCheckNodePort: plan.healthCheck ?? 0,
      };
      held.set(plan.input.id, allocation);
      const same = sameAllocation(this.held.get(plan.input.id), allocation);
      if (!same) changed = true;
      results.set(plan.input.id, new Allocated(plan, allocation, same));
    }
    this.holdingsChanged = changed || held.size !== this.held.size;
    this.held = held;
    return results;
  }

  private plan(input: AllocationInput): Plan {
    const { svc } = input;
    const plan: Plan = { input, families: [], ips: [], nodePorts: new Map(), healthCheck: null, error: null };
    const err = (field: string, reason: string) => {
      plan.error = { kind: 'Service', namespace: svc.namespace, name: svc.name, field, reason };
      return plan;
    };
    if (!svc.headless && svc.type !== 'ExternalName') {
      const explicitFamilies = svc.clusterIPs.map(familyOf);
      let families: IPFamily[] = explicitFamilies.length > 0 ? explicitFamilies : svc.ipFamilies.length > 0 ? [...svc.ipFamilies] : [this.primary];
      if (svc.ipFamilyPolicy !== 'SingleStack' && families.length === 1) {
        const other: IPFamily = families[0] === 'IPv4' ? 'IPv6' : 'IPv4';
        if (this.ranges.has(other)) families = [...families, other];
        else if (svc.ipFamilyPolicy === 'RequireDualStack') return err('spec.ipFamilyPolicy', `RequireDualStack needs a service CIDR of each family; configured: ${this.cidrList()}`);
      }
      for (let i = explicitFamilies.length; i < families.length; i++) {
        if (!this.ranges.has(families[i])) return err('spec.ipFamilies', `no ${families[i]} service CIDR is configured (--service-cluster-ip-range is ${this.cidrList()})`);
      }
      plan.families = families;
      plan.ips = families.map((_, i) => svc.clusterIPs[i] ?? null);
    }
    const wantsNodePorts = svc.type === 'NodePort' || (svc.type === 'LoadBalancer' && svc.allocateLoadBalancerNodePorts);
    for (const p of svc.ports) {
      if (p.nodePort) plan.nodePorts.set(p.port, p.nodePort);
      else if (wantsNodePorts && !plan.nodePorts.has(p.port)) plan.nodePorts.set(p.port, 0);
    }
    if (svc.type === 'LoadBalancer' && svc.externalTrafficPolicy === 'Local') plan.healthCheck = svc.healthCheckNodePort;
    return plan;
  }

  private probeIP(range: AddressRange, key: string, taken: ReadonlyMap<string, string>, alsoTaken?: ReadonlySet<string>): string | null {
    const start = hashOffset(key, range.size);
    const limit = range.size < 1_000_000n ? range.size : 1_000_000n;
    for (let k = 0n; k < limit; k++) {
      const ip = range.at((start + k) % range.size);
      if (!taken.has(ip) && !alsoTaken?.has(ip)) return ip;
    }
    return null;
  }

  private probePort(key: string, taken: ReadonlyMap<number, string>): number | null {
    const { min, max } = this.opts.nodePortRange;
    const size = max - min + 1;
    const start = Number(hashOffset(key, BigInt(size)));
    for (let k = 0; k < size; k++) {
      const p = min + ((start + k) % size);
      if (!taken.has(p)) return p;
    }
    return null;
  }

  private inPortRange(p: number): boolean {
    return p >= this.opts.nodePortRange.min && p <= this.opts.nodePortRange.max;
  }

  private portRangeText(): string {
    return `${this.opts.nodePortRange.min}-${this.opts.nodePortRange.max}`;
  }

  private cidrList(): string {
    return [...this.ranges.values()].map((r) => r.cidr).join(',') || '(none)';
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.warn?.(message);
  }
}

function familyOf(ip: string): IPFamily {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}
