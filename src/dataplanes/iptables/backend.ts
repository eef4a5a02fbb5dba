// Which iptables backend to drive: the one the node already uses, decided as kube-proxy's
// image decides it (its iptables-wrapper): kubelet's (or kube-proxy's) hint chains in the
// mangle table of one backend win; otherwise the backend holding more rules; otherwise nft.
// Mixing both would leave two sets of rules that the kernel both evaluates.
import { run } from './exec.js';

export type IptablesBackend = 'nft' | 'legacy';

export interface IptablesTools {
  backend: IptablesBackend;
  /** Why this backend was chosen (logged). */
  reason: string;
  iptables: (family: 'IPv4' | 'IPv6') => string;
  restore: (family: 'IPv4' | 'IPv6') => string;
  save: (family: 'IPv4' | 'IPv6') => string;
  /** Command prefix every tool runs under, e.g. ["ip", "netns", "exec", "ns1"] (tests); [] normally. */
  prefix: readonly string[];
}

/** Runs one of the tools (or sysctl) under the tools' prefix. */
export function runTool(tools: Pick<IptablesTools, 'prefix'>, binary: string, args: readonly string[], opts: Parameters<typeof run>[2]) {
  if (tools.prefix.length === 0) return run(binary, args, opts);
  return run(tools.prefix[0], [...tools.prefix.slice(1), binary, ...args], opts);
}

const HINTS = ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY'];

export function toolsFor(backend: IptablesBackend, reason: string, prefix: readonly string[] = []): IptablesTools {
  const bin = (family: 'IPv4' | 'IPv6', tool: string) => `${family === 'IPv4' ? 'iptables' : 'ip6tables'}-${backend}${tool}`;
  return {
    backend,
    reason,
    iptables: (f) => bin(f, ''),
    restore: (f) => bin(f, '-restore'),
    save: (f) => bin(f, '-save'),
    prefix,
  };
}

async function saveText(binary: string, args: string[], timeoutMs: number): Promise<string | null> {
  try {
    const r = await run(binary, args, { timeoutMs });
    return r.code === 0 ? r.stdout : null;
  } catch {
    return null;
  }
}

/**
 * Detects the backend. `forced` (KPROXY_IPTABLES_BACKEND) skips detection. Only whole-ruleset
 * saves are read (no `-t TABLE`): asking a legacy table by name would make the kernel create it.
 */
export async function detectBackend(opts: { forced?: string; timeoutMs?: number } = {}): Promise<IptablesTools> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (opts.forced === 'nft' || opts.forced === 'legacy') return toolsFor(opts.forced, `forced by KPROXY_IPTABLES_BACKEND=${opts.forced}`);
  const rules: Record<IptablesBackend, number> = { nft: 0, legacy: 0 };
  for (const backend of ['nft', 'legacy'] as const) {
    for (const family of ['IPv4', 'IPv6'] as const) {
      const bin = toolsFor(backend, '').save(family);
      const text = await saveText(bin, [], timeoutMs);
      if (!text) continue;
      const hint = HINTS.find((h) => text.includes(`:${h} `));
      if (hint) return toolsFor(backend, `${bin} shows ${hint}`);
      for (const line of text.split('\n')) if (line.startsWith('-')) rules[backend]++;
    }
  }
  if (rules.legacy > rules.nft) return toolsFor('legacy', `no hint chain; legacy holds more rules (${rules.legacy} against ${rules.nft})`);
  return toolsFor('nft', `no hint chain; nft holds ${rules.nft} rules, legacy ${rules.legacy}`);
}
