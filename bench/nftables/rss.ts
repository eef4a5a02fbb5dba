// The resident set of a process that holds what kproxy's nftables mode holds at N Services ×
// E endpoints: the change tracker (the objects as a source delivered them), its ProxyState
// and the nftables dataplane's committed state, after a full sync and a few partial syncs
// through the real writers. No source and no servers (their share is measured elsewhere).
// Run inside the benchmark's node namespace (it checks). Prints one JSON line.
// Usage: node dist/bench/nftables/rss.js N E
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultConfig } from '../../src/config/load.js';
import { NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';
import { assertInTestNetns } from '../../test/kernel/netns-guard.js';
import { measurePartialSync } from './measure.js';
import { NODE, serviceObject, sliceObject } from './services.js';

assertInTestNetns();
const n = Number(process.argv[2]);
const E = Number(process.argv[3]);
const config = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: ['10.244.0.0/16'], serviceClusterIPRange: ['10.96.0.0/12'] };
const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.50.1'] });
for (let i = 0; i < n; i++) {
  tracker.upsert(serviceObject(i) as never);
  tracker.upsert(sliceObject(i, n, E) as never);
}
// The dataplane's share of the heap: heapUsed after a full collection, without it and with
// it (after its syncs). Needs --expose-gc (worker.ts passes it); null without.
const gc = (globalThis as { gc?: () => void }).gc;
const settledHeap = () => (gc ? (gc(), gc(), process.memoryUsage().heapUsed) : NaN);
const first = tracker.snapshot();
const heapWithout = settledHeap();
const dp = new NftablesDataplane(config, silentLogger(), new ProxyMetrics().registry);
await dp.sync(first, true);
await measurePartialSync(dp, tracker, n, E, 5);
const heapWith = settledHeap();
// RSS 2 s after the last sync, and after 15 s of idling, when V8's memory reducer has had
// its chance to collect the syncs' garbage and give pages back, as in an idle kproxy.
await sleep(2000);
const soon = process.memoryUsage();
await sleep(13_000);
const idle = process.memoryUsage();
const mb = (x: number) => Math.round(x / 1e6);
const share = gc ? mb(heapWith - heapWithout) : null;
process.stdout.write(
  JSON.stringify({
    rssMB: mb(soon.rss),
    heapUsedMB: mb(soon.heapUsed),
    idleRssMB: mb(idle.rss),
    idleHeapUsedMB: mb(idle.heapUsed),
    dataplaneHeapMB: share,
    heapWithoutDataplaneMB: gc ? mb(heapWithout) : null,
  }) + '\n',
);
dp.close();
