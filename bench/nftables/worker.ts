// The benchmark's worker, run inside the node namespace (it checks): builds each cluster,
// then times, in the same run, kproxy's full sync (compile + nft -f) against a bare `nft -f`
// of the very same text, partial syncs after one EndpointSlice change (through the resident
// netlink writer, as kproxy runs them) against a bare 2-element `nft -f` and the same through
// a persistent libnftables context, and the RSS of a separate process holding the same state.
// Prints one JSON line per size; for the latency size it prints {"ready":N} and waits for a
// line on stdin before moving on, so the parent can measure first-packet latency.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../src/config/load.js';
import type { AppliedRuleset } from '../../src/dataplanes/dataplane.js';
import { NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { compileText } from '../../src/dataplanes/nftables/compile.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';
import { assertInTestNetns } from '../../test/kernel/netns-guard.js';
import { bareNft, measureFullSync, measureLibnftables, measurePartialSync, median, ms, PROBE_TEXT } from './measure.js';
import { NODE, serviceObject, sliceObject } from './services.js';

assertInTestNetns();

const [sizesText, endpointsText, latencySizeText] = process.argv.slice(2);
const sizes = sizesText.split(',').map(Number);
const E = Number(endpointsText);
const latencySize = Number(latencySizeText);
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise<string>((r) => stdin.once('line', r));
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const min = (xs: number[]) => Math.min(...xs);
const r1 = (x: number) => +x.toFixed(1);
const config = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: ['10.244.0.0/16'], serviceClusterIPRange: ['10.96.0.0/12'] };

for (const n of sizes) {
  const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.50.1'] });
  for (let i = 0; i < n; i++) {
    tracker.upsert(serviceObject(i) as never);
    tracker.upsert(sliceObject(i, n, E) as never);
  }
  const state = tracker.snapshot();
  const text = compileText(state, config); // what a replacing full sync sends
  const full = await measureFullSync(state, config, text, ROUNDS);
  // Partial syncs on a dataplane that runs as kproxy does (netlink writer where it can).
  let applied: AppliedRuleset | null = null;
  const dp = new NftablesDataplane(config, silentLogger(), new ProxyMetrics().registry, { publishRuleset: (r) => (applied = r) });
  await dp.sync(state, true);
  // What the /rules page costs the first time it is asked for after a sync (it renders the
  // committed ports; src/rules/served.ts keeps the body until the next sync).
  const render = { ms: [] as number[], cpuMs: [] as number[] };
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    (applied as AppliedRuleset | null)!.render();
    render.ms.push(ms(t0));
    const c = process.cpuUsage(c0);
    render.cpuMs.push((c.user + c.system) / 1000);
  }
  const partial = await measurePartialSync(dp, tracker, n, E);
  const partialBare: number[] = [];
  for (let k = 0; k < 7; k++) partialBare.push((await bareNft(PROBE_TEXT)).wallMs);
  const lib = measureLibnftables(PROBE_TEXT);
  dp.close();
  const rss = spawnSync(process.execPath, ['--expose-gc', join(dirname(fileURLToPath(import.meta.url)), 'rss.js'), String(n), String(E)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (rss.status !== 0) throw new Error(`rss probe failed: ${rss.stderr}`);
  const mem = JSON.parse(rss.stdout) as { rssMB: number; heapUsedMB: number; idleRssMB: number; idleHeapUsedMB: number; dataplaneHeapMB: number | null; heapWithoutDataplaneMB: number | null };
  const result = {
    services: n,
    endpoints: E,
    textMB: +(Buffer.byteLength(text) / 1e6).toFixed(1),
    fullMs: Math.round(median(full.fullMs)),
    bareNftMs: Math.round(median(full.bareMs)),
    ratio: +(median(full.fullMs) / median(full.bareMs)).toFixed(2),
    fullMinMs: Math.round(min(full.fullMs)),
    bareNftMinMs: Math.round(min(full.bareMs)),
    ratioOfMins: +(min(full.fullMs) / min(full.bareMs)).toFixed(2),
    // Load-independent view: kproxy's own CPU per full sync against nft's CPU for the same text.
    kproxyCpuMs: Math.round(median(full.kproxyCpuMs)),
    nftCpuMs: Math.round(median(full.nftCpuMs)),
    cpuRatio: +((median(full.kproxyCpuMs) + median(full.nftCpuMs)) / median(full.nftCpuMs)).toFixed(2),
    partialMs: r1(median(partial.ms)),
    partialMinMs: r1(min(partial.ms)),
    partialCpuMs: r1(median(partial.cpuMs)),
    partialWriter: [...new Set(partial.writers)].join('+'),
    bareNftSmallMs: r1(median(partialBare)),
    libnftablesSmallMs: lib ? r1(median(lib)) : null,
    rulesPageMs: Math.round(median(render.ms)),
    rulesPageCpuMs: Math.round(median(render.cpuMs)),
    rssMB: mem.rssMB,
    heapUsedMB: mem.heapUsedMB,
    idleRssMB: mem.idleRssMB,
    idleHeapUsedMB: mem.idleHeapUsedMB,
    dataplaneHeapMB: mem.dataplaneHeapMB,
    heapWithoutDataplaneMB: mem.heapWithoutDataplaneMB,
    fullRuns: full.fullMs.map(Math.round),
    kproxyCpuRuns: full.kproxyCpuMs.map(Math.round),
    kproxyFaultRuns: full.kproxyFaults,
    // The reference started as before (a fork of this process), beside the one above.
    forkedBareNftMs: Math.round(median(full.forkedBareMs)),
    forkedNftCpuMs: Math.round(median(full.forkedNftCpuMs)),
    forkedRatio: +(median(full.fullMs) / median(full.forkedBareMs)).toFixed(2),
    forkedBareRuns: full.forkedBareMs.map(Math.round),
    bareRuns: full.bareMs.map(Math.round),
    partialRuns: partial.ms.map(r1),
    libnftablesRuns: lib?.map(r1) ?? null,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  if (n === latencySize) {
    process.stdout.write(JSON.stringify({ ready: n }) + '\n');
    await nextLine();
  }
}
stdin.close();
