// The ruleset last applied to the kernel, for the /rules page and `kproxy trace --live`.
// The applier publishes after every successful transaction; the text is rendered only when
// someone asks for it, so a sync never pays for it.
export interface AppliedRuleset {
  mode: 'nftables' | 'iptables' | 'userspace';
  /** When the transaction that produced this ruleset succeeded. */
  appliedAt: Date;
  /** ProxyState generation it was built from. */
  generation: number;
  node: string;
  /** The node's addresses (what `fib daddr type local` means to the tracer). */
  nodeAddresses: readonly string[];
  /** The full ruleset in the form `kproxy rules` prints (a replace transaction). */
  render: () => string;
  /** 'applier': published by the dataplane itself; 'state': compiled again from the synced state. */
  origin: 'applier' | 'state';
}

let last: AppliedRuleset | null = null;

export function publishRuleset(r: AppliedRuleset): void {
  if (r.origin === 'state' && last?.origin === 'applier') return; // the applier's own text wins
  last = r;
}

export function lastRuleset(): AppliedRuleset | null {
  return last;
}

/** For tests. */
export function clearLastRuleset(): void {
  last = null;
}
