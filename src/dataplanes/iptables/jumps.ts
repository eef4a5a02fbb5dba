// The rules kproxy owns in the built-in chains: one jump each into its KUBE-* chains, as
// kube-proxy installs them. A full sync inserts the missing ones at the top (`-I CHAIN 1` in
// the restore input, which never declares a built-in chain, so nobody else's rules in INPUT,
// FORWARD, OUTPUT, PREROUTING or POSTROUTING are touched). KUBE-PROXY-CANARY chains let
// kproxy notice when someone flushes the tables.
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

/** The rule as restore input: `-I CHAIN 1 …` (or `-A CHAIN …`, `-D CHAIN …`). */
export function jumpRuleText(r: JumpRule, op: '-I' | '-A' | '-D'): string {
  return `${op} ${r.chain}${op === '-I' ? ' 1' : ''} ${r.args.map(quoteArg).join(' ')}`;
}

/** Whether an iptables-save line ("-A CHAIN …") is this jump rule, whatever the option order. */
export function isJumpRule(line: string, r: JumpRule): boolean {
  if (!line.startsWith(`-A ${r.chain} `) || !line.endsWith(` -j ${r.target}`)) return false;
  const i = r.args.indexOf('--comment');
  if (i < 0) return line === `-A ${r.chain} -j ${r.target}`;
  return line.includes(`--comment ${quoteArg(r.args[i + 1])}`);
}

export const CANARY = 'KUBE-PROXY-CANARY';
