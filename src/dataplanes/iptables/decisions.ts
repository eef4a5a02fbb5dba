// The model's per-entry-point decisions for one service port, gathered in the shape the
// iptables compiler reads. Every choice (which endpoints, reject or drop, short-circuit,
// allowed sources) was made by the model (ServicePortState.internal / .external); nothing is
// decided here.
import type { Endpoint, ExternalEntry, InternalEntry, ServicePortState } from '../../model/types.js';

export interface EntryDecisions {
  internal: InternalEntry;
  external: ExternalEntry | null;
  /** The endpoints behind KUBE-SVC- (also where short-circuited traffic goes). */
  clusterEndpoints: readonly Endpoint[];
  /** The endpoints behind KUBE-SVL-. */
  localEndpoints: readonly Endpoint[];
}

export function decisionsOf(sp: ServicePortState): EntryDecisions {
  return { internal: sp.internal, external: sp.external, clusterEndpoints: sp.clusterEndpoints ?? [], localEndpoints: sp.localEndpoints ?? [] };
}
