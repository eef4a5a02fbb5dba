// The UDP conntrack reconciler, level-triggered: after every sync it lists the UDP entries
// of this network namespace and deletes those that point at a Service but whose reply comes
// from something that is no longer a serving endpoint of it (including a Service that went
// from N endpoints to none). TCP needs nothing: a dead endpoint resets the connection.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { IPFamily } from '../api/ip.js';
import type { ProxyState } from '../model/types.js';
import { execWithTimeout } from '../util/exec.js';
import type { Logger } from '../util/log.js';
import { isStale, parseConntrackLine, udpServiceIndex, type ConntrackEntry } from './entries.js';

export type ConntrackExec = (args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

/** conntrack with a deadline (util/exec.ts): a hung conntrack must not hang the sync after it. */
export function conntrackExec(binary = 'conntrack', timeoutMs = 30_000): ConntrackExec {
  return async (args) => {
    const r = await execWithTimeout(binary, args, { timeoutMs, maxOutputBytes: 256 * 1024 * 1024 });
    return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
}

const FAMILIES: [IPFamily, string][] = [
  ['IPv4', 'ipv4'],
  ['IPv6', 'ipv6'],
];

export class ConntrackReconciler {
  private readonly duration: Histogram<'ip_family'>;
  private readonly deleted: Counter<'ip_family'>;

  constructor(
    registry: Registry,
    private readonly log: Logger,
    private readonly exec: ConntrackExec = conntrackExec(),
  ) {
    this.duration =
      (registry.getSingleMetric('kubeproxy_conntrack_reconciler_sync_duration_seconds') as Histogram<'ip_family'>) ??
      new Histogram({
        name: 'kubeproxy_conntrack_reconciler_sync_duration_seconds',
        help: 'ReconcileConntrackFlowsLatency latency in seconds',
        labelNames: ['ip_family'],
        buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384],
        registers: [registry],
      });
    this.deleted =
      (registry.getSingleMetric('kubeproxy_conntrack_reconciler_deleted_entries_total') as Counter<'ip_family'>) ??
      new Counter({
        name: 'kubeproxy_conntrack_reconciler_deleted_entries_total',
        help: 'Cumulative conntrack flows deleted by conntrack reconciler',
        labelNames: ['ip_family'],
        registers: [registry],
      });
  }

  /** Deletes the stale UDP entries of both families; returns how many went. Never throws. */
  async reconcile(state: ProxyState): Promise<number> {
    let total = 0;
    for (const [family, flag] of FAMILIES) {
      const end = this.duration.startTimer({ ip_family: family });
      try {
        const idx = udpServiceIndex(state, family);
        if (idx.byAddress.size === 0 && idx.byNodePort.size === 0) continue;
        const listed = await this.exec(['-L', '-p', 'udp', '-f', flag]);
        if (listed.code !== 0) throw new Error(`conntrack -L failed (exit ${listed.code}): ${listed.stderr.trim()}`);
        const stale: ConntrackEntry[] = [];
        for (const line of listed.stdout.split('\n')) {
          const e = line ? parseConntrackLine(line) : null;
          if (e && isStale(e, idx)) stale.push(e);
        }
        let deleted = 0;
        for (const e of stale) {
          // Exit status 1 means "0 flow entries deleted" (already gone): not an error.
          const r = await this.exec(['-D', '-p', 'udp', '-f', flag, '--orig-src', e.origSrc, '--orig-dst', e.origDst, '--orig-port-src', String(e.origSport), '--orig-port-dst', String(e.origDport)]);
          if (r.code === 0) deleted++;
          else if (r.code !== 1) this.log.warn({ entry: e, stderr: r.stderr.trim() }, 'conntrack -D failed');
        }
        total += deleted;
        this.deleted.inc({ ip_family: family }, deleted);
        if (deleted > 0) this.log.debug({ family, deleted }, 'deleted stale UDP conntrack entries');
      } catch (e) {
        this.log.warn({ family, err: (e as Error).message }, 'conntrack reconciliation failed; will retry after the next sync');
      } finally {
        end();
      }
    }
    return total;
  }
}
