// LoadBalancer address assignment, as MetalLB's controller does it, for every Service of
// type LoadBalancer whose spec.loadBalancerClass is unset or kproxy's.
//
// What a Service asks for, in MetalLB's words:
//  - metallb.io/loadBalancerIPs (comma-separated, one per family) or spec.loadBalancerIP:
//    exactly those addresses, from whichever pool holds them (autoAssign does not matter);
//  - metallb.io/address-pool: only that pool;
//  - otherwise the first pool, by serviceAllocation priority then name, that has autoAssign,
//    admits the Service and has a free address of every family in spec.ipFamilies;
//  - metallb.io/allow-shared-ip: Services with the same key may share an address when their
//    ports do not collide (and, with externalTrafficPolicy Local, they select the same Pods).
//
// Stability: what a Service held before (the persisted state in standalone mode, its
// status.loadBalancer.ingress in a cluster) is kept while it is still valid, and holders are
// served before newcomers, so a newcomer never takes an address away. Newcomers are served
// in namespace/name order, so two kproxy instances reading the same objects agree.
// A Service that cannot be served gets an error of its own; nothing else changes.
import { parseIP, type IPFamily } from '../api/ip.js';
import type { Service } from '../api/types.js';
import type { ObjectError } from '../util/errors.js';
import { annotation, ANNOTATION, KPROXY_LOAD_BALANCER_CLASS } from './annotations.js';
import type { IPAddressPool } from './config.js';
import { anySelectorMatches } from './selector.js';

export interface LBServiceInput {
  id: string; // "namespace/name"
  svc: Service;
  /** spec.loadBalancerClass ("" = unset). */
  loadBalancerClass: string;
  /** spec.loadBalancerIP ("" = unset). */
  loadBalancerIP: string;
}

export interface Assignment {
  /** One address per family, in the order of spec.ipFamilies. */
  ips: string[];
  pool: string;
}

export type AssignResult = { ok: true; assignment: Assignment } | { ok: false; error: ObjectError };

export interface PoolUsage {
  pool: string;
  total: Record<IPFamily, number>;
  inUse: Record<IPFamily, number>;
  services: number;
}

/** Whether kproxy assigns addresses to this Service at all. */
export function handlesService(s: LBServiceInput): boolean {
  return s.svc.type === 'LoadBalancer' && (s.loadBalancerClass === '' || s.loadBalancerClass === KPROXY_LOAD_BALANCER_CLASS);
}

interface Request {
  input: LBServiceInput;
  families: IPFamily[];
  dualStackRequired: boolean;
  ips: string[] | null; // explicit addresses
  ipsField: string;
  pool: string | null; // explicit pool
  poolField: string;
  sharingKey: string | null;
}

export class LoadBalancerAssigner {
  private held = new Map<string, Assignment>();
  /** During assign(): the Services using each address so far. */
  private users = new Map<string, Request[]>();

  constructor(held?: ReadonlyMap<string, Assignment>) {
    if (held) this.held = new Map(held);
  }

  /** Replaces what Services hold (in a cluster: what their status shows). */
  reset(held: ReadonlyMap<string, Assignment>): void {
    this.held = new Map(held);
  }

  /** What each Service holds after the last pass (persist this). */
  holdings(): ReadonlyMap<string, Assignment> {
    return this.held;
  }

  /**
   * Assigns addresses to every handled Service. `pools` must already be free of overlaps.
   * Services not in `inputs` lose what they held (unless keepAbsent: their file may just be
   * unreadable for a while).
   */
  assign(inputs: readonly LBServiceInput[], pools: readonly IPAddressPool[], keepAbsent = false): Map<string, AssignResult> {
    const results = new Map<string, AssignResult>();
    const users = new Map<string, Request[]>(); // ip -> the Services using it
    this.users = users;
    const poolByName = new Map(pools.map((p) => [p.name, p]));
    const requests: Request[] = [];
    for (const input of [...inputs].filter(handlesService).sort((a, b) => a.id.localeCompare(b.id))) {
      const r = this.request(input);
      if ('kind' in r) results.set(input.id, { ok: false, error: r });
      else requests.push(r);
    }
    const take = (req: Request, a: Assignment) => {
      for (const ip of a.ips) {
        const l = users.get(ip);
        if (l) l.push(req);
        else users.set(ip, [req]);
      }
      results.set(req.input.id, { ok: true, assignment: a });
    };
    const canUse = (req: Request, ip: string) => (users.get(ip) ?? []).every((u) => compatible(req, u));

    // (1) Holders keep what they have, when it still fits what they ask for.
    const newcomers: Request[] = [];
    for (const req of requests) {
      const h = this.held.get(req.input.id);
      const pool = h ? poolByName.get(h.pool) : undefined;
      if (h && pool && this.stillFits(req, h, pool) && h.ips.every((ip) => canUse(req, ip))) take(req, h);
      else newcomers.push(req);
    }
    // (2) Newcomers (and holders whose wish changed), explicit addresses first.
    newcomers.sort((a, b) => Number(b.ips !== null) - Number(a.ips !== null));
    for (const req of newcomers) {
      const r = req.ips ? this.explicit(req, pools, canUse) : this.dynamic(req, pools, poolByName, canUse);
      if ('kind' in r) results.set(req.input.id, { ok: false, error: r });
      else take(req, r);
    }

    const next = new Map<string, Assignment>();
    if (keepAbsent) {
      const present = new Set(inputs.map((i) => i.id));
      for (const [id, a] of this.held) if (!present.has(id)) next.set(id, a);
    }
    for (const [id, r] of results) if (r.ok) next.set(id, r.assignment);
    this.held = next;
    return results;
  }

  /** Per pool: addresses, addresses in use, Services served (for metallb_allocator_* metrics). */
  usage(pools: readonly IPAddressPool[]): PoolUsage[] {
    return pools.map((p) => {
      const inUse: Record<IPFamily, Set<string>> = { IPv4: new Set(), IPv6: new Set() };
      let services = 0;
      for (const a of this.held.values()) {
        if (a.pool !== p.name) continue;
        services++;
        for (const ip of a.ips) inUse[parseIP(ip)?.family ?? 'IPv4'].add(ip);
      }
      return {
        pool: p.name,
        total: { IPv4: p.addresses.size('IPv4'), IPv6: p.addresses.size('IPv6') },
        inUse: { IPv4: inUse.IPv4.size, IPv6: inUse.IPv6.size },
        services,
      };
    });
  }

  private request(input: LBServiceInput): Request | ObjectError {
    const { svc } = input;
    const err = (field: string, reason: string): ObjectError => ({ kind: 'Service', namespace: svc.namespace, name: svc.name, field, reason });
    const fam = svc.ipFamilies.length > 0 ? [...svc.ipFamilies] : (['IPv4'] as IPFamily[]);
    const req: Request = {
      input,
      families: fam,
      dualStackRequired: svc.ipFamilyPolicy === 'RequireDualStack',
      ips: null,
      ipsField: '',
      pool: null,
      poolField: '',
      sharingKey: annotation(svc.annotations, ANNOTATION.allowSharedIP)?.value || null,
    };
    const lbIPs = annotation(svc.annotations, ANNOTATION.loadBalancerIPs);
    if (lbIPs && input.loadBalancerIP) return err(`metadata.annotations[${lbIPs.key}]`, 'cannot be set together with spec.loadBalancerIP');
    if (lbIPs || input.loadBalancerIP) {
      const field = lbIPs ? `metadata.annotations[${lbIPs.key}]` : 'spec.loadBalancerIP';
      const texts = lbIPs
        ? lbIPs.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [input.loadBalancerIP];
      const ips: string[] = [];
      const seen = new Set<IPFamily>();
      for (const t of texts) {
        const p = parseIP(t);
        if (!p) return err(field, `"${t}" is not an IP address`);
        if (seen.has(p.family)) return err(field, `more than one ${p.family} address ("${lbIPs?.value ?? t}")`);
        seen.add(p.family);
        ips.push(p.ip);
      }
      if (ips.length === 0) return err(field, 'is empty');
      req.ips = ips;
      req.ipsField = field;
      // The addresses asked for decide the families, ordered as spec.ipFamilies orders them.
      req.families = [...seen].sort((a, b) => fam.indexOf(a) - fam.indexOf(b));
    }
    const pool = annotation(svc.annotations, ANNOTATION.addressPool);
    if (pool) {
      if (!pool.value) return err(`metadata.annotations[${pool.key}]`, 'is empty');
      req.pool = pool.value;
      req.poolField = `metadata.annotations[${pool.key}]`;
    }
    return req;
  }

  private stillFits(req: Request, h: Assignment, pool: IPAddressPool): boolean {
    if (req.pool && req.pool !== h.pool) return false;
    if (req.ips) return sameSet(req.ips, h.ips) && h.ips.every((ip) => pool.addresses.contains(ip));
    const fams = h.ips.map((ip) => parseIP(ip)?.family);
    const wanted = this.familiesFor(req, pool);
    return wanted !== null && fams.length === wanted.length && wanted.every((f, i) => fams[i] === f) && h.ips.every((ip) => pool.addresses.contains(ip)) && (pool.autoAssign || req.pool !== null);
  }

  /** The families to assign from this pool, or null when the pool cannot serve the Service. */
  private familiesFor(req: Request, pool: IPAddressPool): IPFamily[] | null {
    const has = pool.addresses.families();
    if (req.families.length === 1 || req.dualStackRequired) return req.families.every((f) => has.has(f)) ? req.families : null;
    // PreferDualStack: both when the pool has both, otherwise the primary family alone.
    if (req.families.every((f) => has.has(f))) return req.families;
    return has.has(req.families[0]) ? [req.families[0]] : null;
  }

  private explicit(req: Request, pools: readonly IPAddressPool[], canUse: (req: Request, ip: string) => boolean): Assignment | ObjectError {
    const { svc } = req.input;
    const err = (field: string, reason: string): ObjectError => ({ kind: 'Service', namespace: svc.namespace, name: svc.name, field, reason });
    let poolName = '';
    for (const ip of req.ips!) {
      const pool = pools.find((p) => p.addresses.contains(ip));
      if (!pool) return err(req.ipsField, `${ip} is in no IPAddressPool`);
      if (req.pool && pool.name !== req.pool) return err(req.ipsField, `${ip} is not in IPAddressPool ${req.pool} (${req.poolField})`);
      if (poolName && pool.name !== poolName) return err(req.ipsField, `the addresses come from different pools (${poolName}, ${pool.name})`);
      poolName = pool.name;
      if (!canUse(req, ip)) return err(req.ipsField, `${ip} is already in use by Service ${this.holderOf(ip, req)} and cannot be shared with it (metallb.io/allow-shared-ip)`);
    }
    return { ips: [...req.ips!], pool: poolName };
  }

  private dynamic(req: Request, pools: readonly IPAddressPool[], byName: ReadonlyMap<string, IPAddressPool>, canUse: (req: Request, ip: string) => boolean): Assignment | ObjectError {
    const { svc } = req.input;
    const err = (field: string, reason: string): ObjectError => ({ kind: 'Service', namespace: svc.namespace, name: svc.name, field, reason });
    let candidates: IPAddressPool[];
    if (req.pool) {
      const p = byName.get(req.pool);
      if (!p) return err(req.poolField, `no IPAddressPool named ${req.pool}`);
      candidates = [p];
    } else {
      candidates = pools.filter((p) => p.autoAssign && admits(p, svc)).sort(byPriority);
      if (candidates.length === 0)
        return err('spec.type', pools.length === 0 ? 'no IPAddressPool is defined; the Service stays pending' : 'no IPAddressPool with autoAssign admits this Service; it stays pending');
    }
    const tried: string[] = [];
    for (const pool of candidates) {
      const families = this.familiesFor(req, pool);
      if (!families) {
        tried.push(`${pool.name} (no ${req.families.join('+')} addresses)`);
        continue;
      }
      const ips: string[] = [];
      for (const f of families) {
        // Prefer an address already shared under the same key; then the first free one.
        const ip = (req.sharingKey ? this.sharedCandidate(req, pool, f, canUse) : null) ?? pool.addresses.first(f, (ip) => canUse(req, ip) && !this.isUsed(ip));
        if (!ip) break;
        ips.push(ip);
      }
      if (ips.length === families.length) return { ips, pool: pool.name };
      tried.push(`${pool.name} (${pool.addresses.size(families[ips.length])} ${families[ips.length]} addresses, none free)`);
    }
    return err('status.loadBalancer.ingress', `no free address: ${tried.join(', ')}`);
  }

  private isUsed(ip: string): boolean {
    return (this.users.get(ip)?.length ?? 0) > 0;
  }

  /** An address of the pool already used under the same sharing key that the Service can join. */
  private sharedCandidate(req: Request, pool: IPAddressPool, family: IPFamily, canUse: (req: Request, ip: string) => boolean): string | null {
    for (const [ip, list] of this.users) {
      if (list.some((u) => u.sharingKey === req.sharingKey) && parseIP(ip)?.family === family && pool.addresses.contains(ip) && canUse(req, ip)) return ip;
    }
    return null;
  }

  private holderOf(ip: string, req: Request): string {
    return (this.users.get(ip) ?? [])
      .filter((u) => u !== req)
      .map((u) => u.input.id)
      .join(', ');
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function byPriority(a: IPAddressPool, b: IPAddressPool): number {
  // serviceAllocation.priority: a lower number wins; unset (0) comes after every set one.
  const pa = a.allocateTo?.priority || Number.MAX_SAFE_INTEGER;
  const pb = b.allocateTo?.priority || Number.MAX_SAFE_INTEGER;
  return pa - pb || a.name.localeCompare(b.name);
}

/** Whether a pool's serviceAllocation admits the Service (no serviceAllocation: everyone). */
function admits(p: IPAddressPool, svc: Service): boolean {
  const a = p.allocateTo;
  if (!a) return true;
  if (a.namespaces.length > 0 && !a.namespaces.includes(svc.namespace)) return false;
  // Namespace labels: the API server always sets kubernetes.io/metadata.name; kproxy does not
  // read Namespace objects, so that is the one label namespaceSelectors can match.
  if (a.namespaceSelectors.length > 0 && !anySelectorMatches(a.namespaceSelectors, { 'kubernetes.io/metadata.name': svc.namespace })) return false;
  return anySelectorMatches(a.serviceSelectors, svc.labels);
}

/** MetalLB's sharing rule: same key, no port in common, and for eTP Local the same Pods. */
function compatible(a: Request, b: Request): boolean {
  if (a.input.id === b.input.id) return true;
  if (!a.sharingKey || a.sharingKey !== b.sharingKey) return false;
  for (const p of a.input.svc.ports) if (b.input.svc.ports.some((q) => q.port === p.port && q.protocol === p.protocol)) return false;
  const local = a.input.svc.externalTrafficPolicy === 'Local' || b.input.svc.externalTrafficPolicy === 'Local';
  if (local && JSON.stringify(a.input.svc.selector) !== JSON.stringify(b.input.svc.selector)) return false;
  return true;
}
