// Which nodes may announce LoadBalancer addresses, from Node objects and their
// kube-node-lease Leases. A node is eligible while:
//  - its Ready condition is True (a Node written without any conditions, as in a standalone
//    folder, counts as ready);
//  - its NetworkUnavailable condition is not True, and it does not carry the label
//    node.kubernetes.io/exclude-from-external-load-balancers (as MetalLB);
//  - it is not being deleted;
//  - its Lease in kube-node-lease, when there is one, was renewed within
//    leaseDurationSeconds (the kubelet renews it every 10 s; a node whose Lease stops being
//    renewed is gone long before the node controller marks it NotReady, 40 s later).
import type { KubeObject } from '../api/types.js';

export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  /** Ready condition: true, false, or null when the Node has no Ready condition. */
  ready: boolean | null;
  networkUnavailable: boolean;
  deleting: boolean;
}

export interface LeaseFacts {
  name: string;
  /** ms since the epoch when the Lease stops being valid; null: no renewTime, never expires. */
  expiresAt: number | null;
}

export function nodeFacts(o: KubeObject): NodeFacts | null {
  const name = o.metadata?.name;
  if (typeof name !== 'string' || !name) return null;
  const conditions = ((o.status as Record<string, unknown> | undefined)?.conditions ?? []) as unknown[];
  const status = (type: string): string | null => {
    if (!Array.isArray(conditions)) return null;
    const c = conditions.find((x) => (x as Record<string, unknown> | null)?.type === type) as Record<string, unknown> | undefined;
    return c && typeof c.status === 'string' ? c.status : null;
  };
  const ready = status('Ready');
  return {
    name,
    labels: o.metadata?.labels && typeof o.metadata.labels === 'object' ? { ...o.metadata.labels } : {},
    ready: ready === null ? null : ready === 'True',
    networkUnavailable: status('NetworkUnavailable') === 'True',
    deleting: !!o.metadata?.deletionTimestamp,
  };
}

/** A coordination.k8s.io/v1 Lease of kube-node-lease; null for other Leases or no name. */
export function leaseFacts(o: KubeObject): LeaseFacts | null {
  const name = o.metadata?.name;
  if (typeof name !== 'string' || !name || o.metadata?.namespace !== NODE_LEASE_NAMESPACE) return null;
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const renew = typeof spec.renewTime === 'string' ? Date.parse(spec.renewTime) : NaN;
  const duration = typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : 40;
  return { name, expiresAt: Number.isFinite(renew) ? renew + duration * 1000 : null };
}

/** Why a node may not announce, or null when it may. */
export function ineligibleReason(n: NodeFacts, lease: LeaseFacts | undefined, now: number): string | null {
  if (n.deleting) return 'being deleted';
  if (n.ready === false) return 'not Ready';
  if (n.networkUnavailable) return 'NetworkUnavailable';
  if (Object.prototype.hasOwnProperty.call(n.labels, EXCLUDE_LABEL)) return `labelled ${EXCLUDE_LABEL}`;
  if (lease?.expiresAt != null && lease.expiresAt <= now) return 'its Lease expired';
  return null;
}
