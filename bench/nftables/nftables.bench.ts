// `npm run bench:nftables`: kproxy's nftables mode at 1,000 / 10,000 / 30,000 Services × 10
// endpoints, inside the kernel harness's namespaces (needs root). Reports, per size, a full
// sync (compile + nft -f) against a bare `nft -f` of the same text measured in the same run,
// a partial sync after one EndpointSlice change (resident netlink writer) against a bare
// 2-element `nft -f` and a persistent libnftables context, and the RSS of a process holding
// that state; at 10,000 Services, first-packet (TCP connect) latency to the first and the
// last Service. The measuring functions are in measure.ts; the namespaces, the latency client
// and the statistics are the cross-mode bench's (src/bench/).
// Usage: node dist/bench/nftables/nftables.bench.js [SIZES=1000,10000,30000] [ENDPOINTS=10]
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { modeSkipReason, topologySkipReason } from '../../src/bench/preflight.js';
import { quantile } from '../../src/bench/stats.js';
import { BenchTopology } from '../../src/bench/topology.js';
import { connectSamples } from '../../src/bench/traffic.js';
import { serviceIP } from './services.js';

const sizes = (process.argv[2] ?? '1000,10000,30000').split(',').map(Number);
const E = Number(process.argv[3] ?? 10);
const latencySize = sizes.includes(10000) ? 10000 : sizes[Math.floor(sizes.length / 2)];

const skip = topologySkipReason() ?? (await modeSkipReason('nftables'));
if (skip) {
  console.log(`bench:nftables: ${skip}`);
  process.exit(0);
}

const topo = await BenchTopology.create('nft');
const rows: Record<string, unknown>[] = [];
let latency: Record<string, unknown> | null = null;
try {
  const worker = topo.spawn('node', [process.execPath, join(dirname(fileURLToPath(import.meta.url)), 'worker.js'), sizes.join(','), String(E), String(latencySize)]);
  worker.stderr!.pipe(process.stderr);
  const lines = createInterface({ input: worker.stdout! });
  for await (const l of lines) {
    const o = JSON.parse(l);
    if (o.ready) {
      const n = o.ready as number;
      const [a, b] = [`${serviceIP(0)}:80`, `${serviceIP(n - 1)}:80`];
      const m = await connectSamples(topo, [a, b], 300);
      const q = (t: string, p: number) => quantile(m[t], p);
      latency = {
        services: n,
        firstP50us: Math.round(q(a, 0.5)),
        lastP50us: Math.round(q(b, 0.5)),
        firstP90us: Math.round(q(a, 0.9)),
        lastP90us: Math.round(q(b, 0.9)),
        lastOverFirst: +(q(b, 0.5) / q(a, 0.5)).toFixed(3),
      };
      worker.stdin!.write('go\n');
      continue;
    }
    rows.push(o);
    console.error(JSON.stringify(o));
  }
  if (worker.exitCode !== 0 && worker.exitCode !== null) throw new Error(`worker exited ${worker.exitCode}`);
} finally {
  await topo.destroy();
}

console.log('\nMedians (and minimums) of alternating runs in one process; ratio = full / bare. CPU: kproxy process CPU per full sync, nft CPU for the same text, (kproxy + nft) / nft.');
console.log('Targets: full sync ≤ 1.1 × bare nft -f; partial sync ≤ 10 ms at 10,000 × 10; RSS ≤ 250 MB at 10,000 × 10 (tracker + ProxyState + dataplane, no source).');
console.log(
  '| Services × endpoints | nft text | full sync (compile + nft -f) | bare nft -f, same text | ratio (target ≤ 1.1) | ratio of minimums | CPU kproxy / nft → ratio | partial sync, 1 EndpointSlice, median (min) / CPU (target ≤ 10 ms) [writer] | bare nft -f, 2 elements | libnftables context, 2 elements | RSS / heap 2 s after the syncs | after 15 s idle (target ≤ 250 MB) | dataplane heap (heap without it) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.services} × ${r.endpoints} | ${r.textMB} MB | ${r.fullMs} (${r.fullMinMs}) ms | ${r.bareNftMs} (${r.bareNftMinMs}) ms | ${r.ratio} | ${r.ratioOfMins} | ${r.kproxyCpuMs} / ${r.nftCpuMs} ms → ${r.cpuRatio} | ${r.partialMs} (${r.partialMinMs}) / ${r.partialCpuMs} ms [${r.partialWriter}] | ${r.bareNftSmallMs} ms | ${r.libnftablesSmallMs ?? 'n/a'} ms | ${r.rssMB} / ${r.heapUsedMB} MB | ${r.idleRssMB} / ${r.idleHeapUsedMB} MB | ${r.dataplaneHeapMB ?? 'n/a'} MB (${r.heapWithoutDataplaneMB ?? 'n/a'} MB) |`,
  );
}
for (const r of rows)
  console.log(
    `${r.services} × ${r.endpoints}: kproxy's process per full sync: CPU ${(r.kproxyCpuRuns as number[]).join(', ')} ms, minor faults ${(r.kproxyFaultRuns as number[]).join(', ')}. The bare nft -f is started as kproxy starts nft (posix_spawn); started as before (child_process, a fork of this process) it takes ${r.forkedBareNftMs} ms (nft CPU ${r.forkedNftCpuMs} ms): ratio ${r.forkedRatio} against it.`,
  );
for (const r of rows)
  console.log(`/rules page at ${r.services} × ${r.endpoints}: rendering the committed ruleset takes ${r.rulesPageMs} ms (${r.rulesPageCpuMs} ms CPU), median of 3 (target ≤ ~100 ms).`);
if (latency) {
  console.log(
    `\nFirst-packet latency at ${latency.services} Services (p50 of 300 TCP connects each, alternating): first ${latency.firstP50us} µs, last ${latency.lastP50us} µs (last/first ${latency.lastOverFirst}; p90 ${latency.firstP90us} / ${latency.lastP90us} µs)`,
  );
}
console.log('\n' + JSON.stringify({ rows, latency }));
