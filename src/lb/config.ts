// MetalLB's configuration objects (metallb.io/v1beta1), validated: IPAddressPool and
// L2Advertisement. A bad object costs that object alone, with one error naming the object
// and the field, as for every other kind kproxy reads. BGP objects are not read (layer 2
// only); the Announcement interface in announce.ts leaves room for them.
import type { IPFamily } from '../api/ip.js';
import type { KubeObject } from '../api/types.js';
import type { ObjectError } from '../util/errors.js';
import { AddressSet, overlaps, parseAddresses, type Interval } from './pool.js';
import { parseLabelSelector, type LabelSelector } from './selector.js';

export const METALLB_API_VERSION = 'metallb.io/v1beta1';
export const POOL_KIND = 'IPAddressPool';
export const L2_KIND = 'L2Advertisement';

export interface IPAddressPool {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  addresses: AddressSet;
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  /** spec.serviceAllocation: which Services may get addresses from this pool without asking. */
  allocateTo: { priority: number; namespaces: string[]; namespaceSelectors: LabelSelector[]; serviceSelectors: LabelSelector[] } | null;
  creationTimestamp: string;
}

export interface L2Advertisement {
  namespace: string;
  name: string;
  /** spec.ipAddressPools and spec.ipAddressPoolSelectors; both empty: every pool. */
  ipAddressPools: string[];
  ipAddressPoolSelectors: LabelSelector[];
  nodeSelectors: LabelSelector[];
  serviceSelectors: LabelSelector[];
  /** Interfaces to answer on; empty: every interface that is up (except lo). */
  interfaces: string[];
}

type Result<T> = { ok: true; value: T } | { ok: false; error: ObjectError };

function meta(o: KubeObject): { namespace: string; name: string; labels: Record<string, string>; creationTimestamp: string } {
  const m = o.metadata ?? {};
  return {
    namespace: typeof m.namespace === 'string' && m.namespace ? m.namespace : 'default',
    name: typeof m.name === 'string' ? m.name : '',
    labels: m.labels && typeof m.labels === 'object' ? { ...m.labels } : {},
    creationTimestamp: typeof m.creationTimestamp === 'string' ? m.creationTimestamp : '',
  };
}

function selectors(kind: string, m: { namespace: string; name: string }, raw: unknown, field: string): Result<LabelSelector[]> {
  if (raw === undefined || raw === null) return { ok: true, value: [] };
  if (!Array.isArray(raw)) return { ok: false, error: { kind, ...pick(m), field, reason: 'must be a list of label selectors' } };
  const out: LabelSelector[] = [];
  for (const [i, s] of raw.entries()) {
    const p = parseLabelSelector(s);
    if (!p.ok) return { ok: false, error: { kind, ...pick(m), field: `${field}[${i}]${p.field}`, reason: p.reason } };
    out.push(p.value);
  }
  return { ok: true, value: out };
}

function strings(kind: string, m: { namespace: string; name: string }, raw: unknown, field: string): Result<string[]> {
  if (raw === undefined || raw === null) return { ok: true, value: [] };
  if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'string' || x === '')) return { ok: false, error: { kind, ...pick(m), field, reason: 'must be a list of non-empty strings' } };
  return { ok: true, value: raw as string[] };
}

const pick = (m: { namespace: string; name: string }) => ({ namespace: m.namespace, name: m.name });

export function validatePool(o: KubeObject): Result<IPAddressPool> {
  const m = meta(o);
  const err = (field: string, reason: string): Result<IPAddressPool> => ({ ok: false, error: { kind: POOL_KIND, ...pick(m), field, reason } });
  if (!m.name) return err('metadata.name', 'required');
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  if (!Array.isArray(spec.addresses) || spec.addresses.length === 0) return err('spec.addresses', 'required: a non-empty list of CIDRs or ranges');
  const intervals: Interval[] = [];
  for (const [i, a] of spec.addresses.entries()) {
    if (typeof a !== 'string') return err(`spec.addresses[${i}]`, 'must be a string');
    const p = parseAddresses(a);
    if (typeof p === 'string') return err(`spec.addresses[${i}]`, p);
    const clash = intervals.findIndex((x) => overlaps(x, p));
    if (clash >= 0) return err(`spec.addresses[${i}]`, `overlaps spec.addresses[${clash}]`);
    intervals.push(p);
  }
  if (spec.autoAssign !== undefined && typeof spec.autoAssign !== 'boolean') return err('spec.autoAssign', 'must be true or false');
  if (spec.avoidBuggyIPs !== undefined && typeof spec.avoidBuggyIPs !== 'boolean') return err('spec.avoidBuggyIPs', 'must be true or false');
  let allocateTo: IPAddressPool['allocateTo'] = null;
  if (spec.serviceAllocation !== undefined && spec.serviceAllocation !== null) {
    const sa = spec.serviceAllocation as Record<string, unknown>;
    if (typeof sa !== 'object' || Array.isArray(sa)) return err('spec.serviceAllocation', 'must be an object');
    if (sa.priority !== undefined && (typeof sa.priority !== 'number' || !Number.isInteger(sa.priority) || sa.priority < 0))
      return err('spec.serviceAllocation.priority', 'must be a non-negative integer');
    const ns = strings(POOL_KIND, m, sa.namespaces, 'spec.serviceAllocation.namespaces');
    if (!ns.ok) return ns;
    const nsSel = selectors(POOL_KIND, m, sa.namespaceSelectors, 'spec.serviceAllocation.namespaceSelectors');
    if (!nsSel.ok) return nsSel;
    const svcSel = selectors(POOL_KIND, m, sa.serviceSelectors, 'spec.serviceAllocation.serviceSelectors');
    if (!svcSel.ok) return svcSel;
    allocateTo = { priority: (sa.priority as number | undefined) ?? 0, namespaces: ns.value, namespaceSelectors: nsSel.value, serviceSelectors: svcSel.value };
  }
  const avoidBuggyIPs = spec.avoidBuggyIPs === true;
  return {
    ok: true,
    value: {
      ...m,
      addresses: new AddressSet(intervals, avoidBuggyIPs),
      autoAssign: spec.autoAssign !== false,
      avoidBuggyIPs,
      allocateTo,
    },
  };
}

export function validateL2Advertisement(o: KubeObject): Result<L2Advertisement> {
  const m = meta(o);
  if (!m.name) return { ok: false, error: { kind: L2_KIND, ...pick(m), field: 'metadata.name', reason: 'required' } };
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const pools = strings(L2_KIND, m, spec.ipAddressPools, 'spec.ipAddressPools');
  if (!pools.ok) return pools;
  const poolSel = selectors(L2_KIND, m, spec.ipAddressPoolSelectors, 'spec.ipAddressPoolSelectors');
  if (!poolSel.ok) return poolSel;
  const nodeSel = selectors(L2_KIND, m, spec.nodeSelectors, 'spec.nodeSelectors');
  if (!nodeSel.ok) return nodeSel;
  const svcSel = selectors(L2_KIND, m, spec.serviceSelectors, 'spec.serviceSelectors');
  if (!svcSel.ok) return svcSel;
  const ifs = strings(L2_KIND, m, spec.interfaces, 'spec.interfaces');
  if (!ifs.ok) return ifs;
  const bad = ifs.value.findIndex((i) => i.length > 15 || /[\s/]/.test(i));
  if (bad >= 0) return { ok: false, error: { kind: L2_KIND, ...pick(m), field: `spec.interfaces[${bad}]`, reason: `"${ifs.value[bad]}" is not a Linux interface name` } };
  return {
    ok: true,
    value: {
      namespace: m.namespace,
      name: m.name,
      ipAddressPools: pools.value,
      ipAddressPoolSelectors: poolSel.value,
      nodeSelectors: nodeSel.value,
      serviceSelectors: svcSel.value,
      interfaces: ifs.value,
    },
  };
}

/** Pools that overlap an earlier pool (by creation time, then namespace/name) are refused. */
export function refuseOverlaps(pools: readonly IPAddressPool[]): { pools: IPAddressPool[]; errors: ObjectError[] } {
  const sorted = [...pools].sort((a, b) => a.creationTimestamp.localeCompare(b.creationTimestamp) || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const kept: IPAddressPool[] = [];
  const errors: ObjectError[] = [];
  for (const p of sorted) {
    const other = kept.find((k) => k.addresses.intervals.some((a) => p.addresses.intervals.some((b) => overlaps(a, b))));
    if (other)
      errors.push({ kind: POOL_KIND, namespace: p.namespace, name: p.name, field: 'spec.addresses', reason: `overlaps IPAddressPool ${other.namespace}/${other.name}; this pool is not used` });
    else kept.push(p);
  }
  return { pools: kept, errors };
}

export function poolFamilies(p: IPAddressPool): Set<IPFamily> {
  return p.addresses.families();
}
