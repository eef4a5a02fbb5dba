// The rules kproxy owns in the built-in chains: one jump each into its KUBE-* chains, as
// kube-proxy installs them (inserted at the top with `iptables -I`, never through a restore,
// so that nobody else's rules in INPUT, FORWARD, OUTPUT, PREROUTING or POSTROUTING are
// touched). KUBE-PROXY-CANARY chains let kproxy notice when someone flushes the tables.
export interface JumpRule {
  table: 'filter' | 'nat';
  chain: string;
  target: string;
  /** Match arguments, comment included: exactly what `iptables -C/-I` receive after the chain. */
  args: string[];
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];
const c = (text: string) => ['-m', 'comment', '--comment', text];

export function jumpRules(opts: { kubeletFirewall: boolean }): JumpRule[] {
  const j = (table: JumpRule['table'], chain: string, target: string, comment: string | null, extra: string[] = []): JumpRule => ({
    table,
    chain,
    target,
    args: [...(comment ? c(comment) : []), ...extra, '-j', target],
  });
  const rules = [
    j('filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', NEW),
    j('filter', 'FORWARD', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', NEW),
    j('filter', 'INPUT', 'KUBE-NODEPORTS', 'kubernetes health check service ports'),
    j('filter', 'FORWARD', 'KUBE-SERVICES', 'kubernetes service portals', NEW),
    j('filter', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', NEW),
    j('filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules'),
    j('filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
    j('filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
    j('filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
    j('nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals'),
    j('nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals'),
    j('nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules'),
  ];
  if (opts.kubeletFirewall) rules.push(j('filter', 'INPUT', 'KUBE-FIREWALL', null), j('filter', 'OUTPUT', 'KUBE-FIREWALL', null));
  return rules;
}

/** Quotes one argument for iptables-save-style text. */
export function quoteArg(a: string): string {
  return /[\s"]/.test(a) ? `"${a.replace(/"/g, '\\"')}"` : a;
}

/**
 * The jump rules as iptables-save prints them (in insertion order they end up reversed: each
 * `-I` goes to the top). The tracer reads this beside the restore text of `kproxy rules`.
 */
export function jumpRulesText(rules: readonly JumpRule[]): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    out.push(`*${table}`);
    const mine = rules.filter((r) => r.table === table);
    for (const r of [...mine].reverse()) out.push(`-A ${r.chain} ${r.args.map(quoteArg).join(' ')}`);
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

export const CANARY = 'KUBE-PROXY-CANARY';
export const CANARY_TABLES = ['mangle', 'nat', 'filter'] as const;
