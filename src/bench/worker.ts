// One mode at one size, run inside the bench's node namespace (it checks first): builds the
// cluster, creates the mode's dataplane through the registry (as `kproxy run` does), and
// times a full sync into empty tables and partial syncs after one EndpointSlice change.
// Prints JSON lines on stdout: {"progress": "…"} while it works, then {"result": {…}}, and
// then waits for a line on stdin while the parent measures traffic through the dataplane;
// at that line (or stdin's end) it removes what it installed and exits.
// Usage: node worker.js MODE SERVICES ENDPOINTS [CGROUP]
import { createInterface } from 'node:readline';
import { defaultConfig } from '../config/load.js';
import type { Config, ProxyMode } from '../config/types.js';
import type { Dataplane } from '../dataplanes/dataplane.js';
import { createDataplane } from '../dataplanes/registry.js';
import { ProxyMetrics } from '../metrics/metrics.js';
import { ChangeTracker } from '../model/tracker.js';
import { silentLogger } from '../util/log.js';
import { NODE, serviceObject, sliceObject } from './cluster.js';
import { cleanupNetns } from './netns-cleanup.js';
import { assertInTestNetns } from './netns-guard.js';
import { childrenOf, rssBytes, selfAndChildrenCpuMs } from './proc.js';
import { median, msSince as ms, round } from './stats.js';
import { BENCH_ADDR } from './topology.js';

assertInTestNetns();

const [modeText, nText, eText, cgroup] = process.argv.slice(2);
const mode = modeText as ProxyMode;
const n = Number(nText);
const E = Number(eText);
// Three full syncs (the median is reported) while one takes under 5 s; one above that.
const FULL_ROUNDS = 3;
const ONE_ROUND_ABOVE_MS = 5000;
const PARTIALS = 5;

const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
/** CPU of this process and of the commands it ran (nft, iptables-restore, ip) that have ended. */
const cpuNow = () => selfAndChildrenCpuMs();

const config: Config = {
  ...defaultConfig(),
  mode,
  modeSource: 'flag',
  hostnameOverride: NODE,
  clusterCIDRs: [BENCH_ADDR.clusterCIDR],
  serviceClusterIPRange: [BENCH_ADDR.serviceCIDR],
  ...(cgroup ? { bpfCgroupRoot: cgroup } : {}),
};

const cleanup = () => cleanupNetns(mode, cgroup);

/** What the mode is running on, where it has a choice (the iptables backend). */
async function variant(): Promise<string | null> {
  if (mode !== 'iptables') return null;
  const { detectBackend } = await import('../dataplanes/iptables/backend.js');
  return `iptables-${(await detectBackend({ forced: process.env.KPROXY_IPTABLES_BACKEND, timeoutMs: 10_000 })).backend}`;
}

const context = () => ({ config, log: silentLogger(), metrics: new ProxyMetrics() });

const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: [BENCH_ADDR.node] });
for (let i = 0; i < n; i++) {
  tracker.upsert(serviceObject(i) as never);
  tracker.upsert(sliceObject(i, n, E) as never);
}
const state = tracker.snapshot();

const full: number[] = [];
const fullCpu: number[] = [];
let dp: Dataplane | null = null;
for (let round = 1; round <= FULL_ROUNDS; round++) {
  say({ progress: `full sync ${round}/${FULL_ROUNDS}` });
  await dp?.close?.();
  await cleanup();
  dp = await createDataplane(context());
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  await dp.sync(state, true);
  full.push(ms(t0));
  fullCpu.push(cpuNow() - c0);
  if (full[0] > ONE_ROUND_ABOVE_MS) break;
}
const partial: number[] = [];
const partialCpu: number[] = [];
for (let k = 1; k <= PARTIALS; k++) {
  say({ progress: `partial sync ${k}/${PARTIALS}` });
  tracker.upsert(sliceObject(Math.floor(n / 2), n, E, k * 7919) as never);
  const s = tracker.snapshot();
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  await dp!.sync(s, false);
  partial.push(ms(t0));
  partialCpu.push(cpuNow() - c0);
}
// The proxy's memory: this process (model and dataplane) and its worker processes, if any.
const rss = rssBytes('self') + childrenOf(process.pid).reduce((s, p) => s + rssBytes(p), 0);
say({
  result: {
    variant: await variant(),
    fullSyncMs: round(median(full), 1),
    fullSyncCpuMs: round(median(fullCpu)),
    partialSyncMs: round(median(partial), 2),
    partialSyncCpuMs: round(median(partialCpu)),
    rssMB: round(rss / 2 ** 20, 1),
    fullSyncRuns: full.map((x) => round(x, 1)),
    partialSyncRuns: partial.map((x) => round(x, 2)),
  },
});

const stdin = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => {
  stdin.once('line', () => resolve());
  stdin.once('close', () => resolve());
});
stdin.close();
await dp!.close?.();
await cleanup();
process.exit(0);
