// The ruleset the dataplane last committed, for the /rules page and `kproxy trace --live`.
// The applier publishes after every successful transaction; the text is rendered only when
// someone asks for it, so a sync never pays for it.
import type { AppliedRuleset } from '../dataplanes/dataplane.js';

export type { AppliedRuleset };

export class RulesetStore {
  private last: AppliedRuleset | null = null;

  /** Bound, so that it can be handed to a dataplane as its DataplaneContext.publishRuleset. */
  readonly publish = (r: AppliedRuleset): void => {
    this.last = r;
  };

  current(): AppliedRuleset | null {
    return this.last;
  }
}
