// What the nftables applier keeps between syncs, per table (see plan.ts and fullsync.ts).
import type { ServicePortState } from '../../model/types.js';
import type { FamilyContext } from './context.js';
import type { ClaimIndex } from './elements.js';

/**
 * What kproxy believes is in one of its tables: exactly what it last committed. A service
 * port's chains, sets and elements are not kept: they are compiled again from its
 * ServicePortState (the model's own object) with the same family context when it changes.
 */
export interface Committed {
  /** The family context every committed port was compiled with (a node change syncs in full). */
  fc: FamilyContext;
  /** Which ports have elements in each scope (the elements themselves are compiled again when needed). */
  claims: ClaimIndex;
  ports: Map<string, ServicePortState>;
  globalChains: Set<string>;
  /** Pick chains present in the table (added by partial syncs as needed, pruned by full ones). */
  sharedChains: Set<string>;
  globalSets: Set<string>;
  /** The service ports' own chains and sets (so that a full rewrite can delete the stale ones). */
  portChains: Set<string>;
  portSets: Set<string>;
}
