// The few figures the bench reads from a proxy's Prometheus metrics page (text format 0.0.4):
// each metric's value summed over its label sets. The bench's cluster is IPv4 only: a
// dual-stack kube-proxy runs one proxier per family, and newer versions label their sync
// histograms with ip_family; the IPv6 proxier's series (which has nothing to sync) is left out,
// so that its syncs do not halve the figures.

/** name → the sum of its samples over every label set but ip_family="IPv6"; a name not on the page is absent. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m || m[2]?.includes('ip_family="IPv6"')) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) out.set(m[1], (out.get(m[1]) ?? 0) + v);
  }
  return out;
}

/** One sync histogram's count and sum (seconds); null when the page does not have it. */
export function histogram(metrics: Map<string, number>, name: string): { count: number; sum: number } | null {
  const count = metrics.get(`${name}_count`);
  const sum = metrics.get(`${name}_sum`);
  return count === undefined || sum === undefined ? null : { count, sum };
}
