// `npm run bench:ebpf`: the ebpf mode beside the nftables mode, measured by the cross-mode
// harness of `kproxy bench` (src/bench/) in one run: full sync into empty maps, the partial
// sync of one EndpointSlice change, RSS, first-packet latency to the first and the last
// Service against the direct connection to the Pod, kept-alive request latency and CPU per
// connection. Then the ebpf mode's targets against those figures.
// Usage: node dist/bench/ebpf/ebpf.bench.js [SIZES=10000] [ENDPOINTS=10]
import { renderTables } from '../../src/bench/report.js';
import { runBench } from '../../src/bench/run.js';
import { ratio } from '../../src/bench/stats.js';
import { KPROXY_VERSION } from '../../src/cli/version.js';

const sizes = (process.argv[2] ?? '10000').split(',').map(Number);
const endpoints = Number(process.argv[3] ?? 10);

const r = await runBench({
  sizes,
  endpoints,
  modes: ['ebpf', 'nftables'],
  haproxy: false,
  guest: false,
  guestSizes: [],
  guestTimeoutS: 0,
  kproxyVersion: KPROXY_VERSION,
  maxFullSyncMs: 300_000,
  workerTimeoutMs: 20 * 60_000,
  traffic: { connects: 300, requests: 1500, cpuConnections: 300 },
});

console.log(
  `\nebpf and nftables at ${sizes.join(', ')} Services × ${endpoints} endpoints (load average ${r.machine.load.start.join(' ')} at the start, ${r.machine.load.min1}–${r.machine.load.max1} during the run)\n`,
);
console.log(renderTables(r));
const ebpf = r.modes.find((m) => m.mode === 'ebpf');
if (ebpf?.status !== 'measured') console.log(`ebpf: not measured: ${ebpf?.reason}`);
for (const s of ebpf?.sizes ?? []) {
  if (s.status !== 'measured') continue;
  console.log(
    `targets at ${s.services} Services: full sync ${s.fullSyncMs} ms (≤ 1000), one EndpointSlice change ${s.partialSyncMs} ms (≤ 5), ` +
      `first packet to the last Service ÷ direct (p50) ${ratio(s.firstPacket!.last.p50, s.firstPacket!.direct.p50)} (≤ 1.05)`,
  );
}
console.log('\n' + JSON.stringify(r));
