// kube-proxy's nfacct counters: two named packet counters (nfnetlink_acct objects, one set per
// network namespace) that rules feed with `-m nfacct --nfacct-name NAME`, read at every
// /metrics scrape:
//   ct_state_invalid_dropped_pkts → kubeproxy_iptables_ct_state_invalid_dropped_packets_total
//     (filter KUBE-FORWARD, the rule that drops conntrack-INVALID packets)
//   localhost_nps_accepted_pkts   → kubeproxy_iptables_localhost_nodeports_accepted_packets_total
//     (nat KUBE-NODEPORTS, a `-d 127.0.0.0/8` copy of each NodePort jump, IPv4 only)
// As kube-proxy: a counter that cannot be created is logged and its rules are written without
// the match (iptables refuses a rule naming a counter that does not exist), and its metric is
// not reported. The counters are created and read with the `nfacct` tool.
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../../util/log.js';
import { runTool, type IptablesTools } from './backend.js';

export const CT_STATE_INVALID_DROPPED = 'ct_state_invalid_dropped_pkts';
export const LOCALHOST_NODEPORTS_ACCEPTED = 'localhost_nps_accepted_pkts';
export const NFACCT_COUNTERS = [CT_STATE_INVALID_DROPPED, LOCALHOST_NODEPORTS_ACCEPTED] as const;

const METRICS: Record<string, { name: string; help: string }> = {
  [CT_STATE_INVALID_DROPPED]: {
    name: 'kubeproxy_iptables_ct_state_invalid_dropped_packets_total',
    help: 'packets dropped by iptables to work around conntrack problems',
  },
  [LOCALHOST_NODEPORTS_ACCEPTED]: {
    name: 'kubeproxy_iptables_localhost_nodeports_accepted_packets_total',
    help: 'Number of packets accepted on nodeports of loopback interface',
  },
};

const TIMEOUT_MS = 10_000;

/** `nfacct list` output: "{ pkts = 00…07, bytes = 00…0420 } = NAME;" per counter → packets. */
export function parseNfacctList(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const m of text.matchAll(/\{\s*pkts\s*=\s*(\d+),\s*bytes\s*=\s*(\d+)\s*\}\s*=\s*([^;\s]+);/g)) out.set(m[3], BigInt(m[1]));
  return out;
}

async function list(tools: IptablesTools): Promise<{ counters: Map<string, bigint> } | { error: string }> {
  try {
    const r = await runTool(tools, 'nfacct', ['list'], { timeoutMs: TIMEOUT_MS });
    if (r.code !== 0) return { error: r.stderr.trim() || `exit ${r.code}` };
    return { counters: parseNfacctList(r.stdout) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * Makes sure both counters exist in the node's network namespace (one `nfacct list`, then
 * `nfacct add` for those missing). Returns the names that exist; logs each that cannot.
 */
export async function ensureNfacctCounters(tools: IptablesTools, log: Logger): Promise<Set<string>> {
  const have = new Set<string>();
  const listed = await list(tools);
  if ('error' in listed) {
    log.error({ err: listed.error }, 'nfacct: cannot list the kernel accounting objects (is the nfacct tool installed?); the nfacct-based metrics will not be available');
    return have;
  }
  for (const name of NFACCT_COUNTERS) {
    if (listed.counters.has(name)) {
      have.add(name);
      continue;
    }
    const r = await runTool(tools, 'nfacct', ['add', name], { timeoutMs: TIMEOUT_MS }).catch((e: Error) => ({ code: -1, stderr: e.message }));
    if (r.code === 0) have.add(name);
    else log.error({ counter: name, err: r.stderr.trim() }, 'nfacct: failed to create the counter; the corresponding metric will not be updated');
  }
  return have;
}

/**
 * Registers the metrics of the counters that exist; each scrape reads them with one
 * `nfacct list` (shared by both metrics). A failed read leaves the last values.
 */
export function registerNfacctMetrics(registry: Registry, tools: IptablesTools, counters: ReadonlySet<string>, log: Logger): void {
  // Both metrics are collected at once per scrape: they share the read in flight.
  let reading: Promise<Map<string, bigint> | null> | null = null;
  const read = () => {
    reading ??= list(tools).then((r) => {
      reading = null;
      if ('error' in r) {
        log.warn({ err: r.error }, 'nfacct: cannot read the counters');
        return null;
      }
      return r.counters;
    });
    return reading;
  };
  for (const name of counters) {
    const m = METRICS[name];
    if (!m || registry.getSingleMetric(m.name)) continue;
    new Counter({
      name: m.name,
      help: m.help,
      registers: [registry],
      async collect() {
        const packets = (await read())?.get(name);
        if (packets === undefined) return;
        this.reset();
        this.inc(Number(packets));
      },
    });
  }
}

/** `kproxy cleanup`: deletes the counters (a counter some other rule still uses stays). */
export async function deleteNfacctCounters(tools: IptablesTools): Promise<string[]> {
  const listed = await list(tools);
  if ('error' in listed) return [];
  const deleted: string[] = [];
  for (const name of NFACCT_COUNTERS) {
    if (!listed.counters.has(name)) continue;
    const r = await runTool(tools, 'nfacct', ['del', name], { timeoutMs: TIMEOUT_MS }).catch(() => null);
    if (r?.code === 0) deleted.push(name);
  }
  return deleted;
}
