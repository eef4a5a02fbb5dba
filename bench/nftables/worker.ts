// The benchmark's worker, run inside the node namespace (it checks): builds each cluster,
// then times, in the same run, kproxy's full sync (compile + nft -f) against a bare `nft -f`
// of the very same text, and a partial sync after one EndpointSlice change.
// Prints one JSON line per size; for the latency size it prints {"ready":N} and waits for a
// line on stdin before moving on, so the parent can measure first-packet latency.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { defaultConfig } from '../../src/config/load.js';
import { NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { collectText, runNft } from '../../src/dataplanes/nftables/nft.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';
import { assertInTestNetns } from '../../test/kernel/netns-guard.js';
import { NODE, serviceObject, sliceObject } from './services.js';

assertInTestNetns();

const [sizesText, endpointsText, latencySizeText] = process.argv.slice(2);
const sizes = sizesText.split(',').map(Number);
const E = Number(endpointsText);
const latencySize = Number(latencySizeText);
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise<string>((r) => stdin.once('line', r));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** CPU time (user + system, ms) of nft in the last bareNft call, from bash's `times`. */
let lastNftCpuMs = 0;

/**
 * `nft -f -` run by itself on a text: the reference a full sync is compared with. Run under
 * bash so that `times` reports nft's CPU time, which the machine's load does not inflate.
 */
function bareNft(text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('bash', ['-c', 'nft -f - || exit 1; times'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => {
      const wall = ms(t0);
      if (code !== 0) return reject(new Error(`nft exit ${code}`));
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(out.trim());
      lastNftCpuMs = m ? (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 : NaN;
      resolve(wall);
    });
    child.stdin.end(text);
  });
}

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const min = (xs: number[]) => Math.min(...xs);
const config = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: ['10.244.0.0/16'], serviceClusterIPRange: ['10.96.0.0/12'] };

for (const n of sizes) {
  const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.50.1'] });
  for (let i = 0; i < n; i++) {
    tracker.upsert(serviceObject(i) as never);
    tracker.upsert(sliceObject(i, n, E) as never);
  }
  const state = tracker.snapshot();
  let lastText = '';
  const dp = new NftablesDataplane(config, silentLogger(), new ProxyMetrics().registry, {
    nft: async (input) => {
      lastText = await collectText(input);
      await runNft(lastText);
    },
  });
  const full: number[] = [];
  const bare: number[] = [];
  const jsCpu: number[] = [];
  const nftCpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // A fresh dataplane each round: its first sync is the replace a starting kproxy does.
    const fresh = new NftablesDataplane(config, silentLogger(), new ProxyMetrics().registry);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await fresh.sync(state, true);
    full.push(ms(t0));
    const c = process.cpuUsage(c0);
    jsCpu.push((c.user + c.system) / 1000);
    if (round === 0) await dp.sync(state, true); // same text, captured for the bare run
    bare.push(await bareNft(lastText));
    nftCpu.push(lastNftCpuMs);
  }
  const rss = process.memoryUsage().rss;
  const textBytes = Buffer.byteLength(lastText);
  // Partial syncs: one EndpointSlice changes (a new set of endpoint addresses) each time.
  const partial: number[] = [];
  const partialBare: number[] = [];
  for (let k = 1; k <= 7; k++) {
    tracker.upsert(sliceObject(Math.floor(n / 2), n, E, k * 7919) as never);
    const s = tracker.snapshot();
    const t0 = process.hrtime.bigint();
    await dp.sync(s, false);
    partial.push(ms(t0));
    if (dp.lastSync.kind !== 'partial') throw new Error(`expected a partial sync, got ${dp.lastSync.kind}`);
    // Reference: the same transaction's cost to nft alone (a delete and re-add of one element).
    const probe = `add element ip kproxy cluster-ips { 10.111.255.254 }\ndelete element ip kproxy cluster-ips { 10.111.255.254 }\n`;
    partialBare.push(await bareNft(probe));
  }
  const result = {
    services: n,
    endpoints: E,
    textMB: +(textBytes / 1e6).toFixed(1),
    fullMs: Math.round(median(full)),
    bareNftMs: Math.round(median(bare)),
    ratio: +(median(full) / median(bare)).toFixed(2),
    fullMinMs: Math.round(min(full)),
    bareNftMinMs: Math.round(min(bare)),
    ratioOfMins: +(min(full) / min(bare)).toFixed(2),
    // Load-independent view: kproxy's own CPU per full sync against nft's CPU for the same text.
    kproxyCpuMs: Math.round(median(jsCpu)),
    nftCpuMs: Math.round(median(nftCpu)),
    cpuRatio: +((median(jsCpu) + median(nftCpu)) / median(nftCpu)).toFixed(2),
    partialMs: +median(partial).toFixed(1),
    bareNftSmallMs: +median(partialBare).toFixed(1),
    rssMB: Math.round(rss / 1e6),
    fullRuns: full.map(Math.round),
    bareRuns: bare.map(Math.round),
    partialRuns: partial.map((x) => +x.toFixed(1)),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  if (n === latencySize) {
    process.stdout.write(JSON.stringify({ ready: n }) + '\n');
    await nextLine();
  }
}
stdin.close();
