// `npm run bench:iptables`: kproxy's iptables mode on both backends (iptables-nft,
// iptables-legacy) beside its nftables mode, from one run, inside the kernel harness's
// namespaces (needs root). Per size (Services × 10 endpoints): full sync against a bare
// `iptables-restore --noflush` (or `nft -f`) of the same text, partial sync after one
// EndpointSlice change against a bare restore of that same partial input, RSS, and
// first-packet (TCP connect) latency to the Services whose nat KUBE-SERVICES rules come first
// and last (nftables: the first and last by number). The iptables backends
// each get a fresh topology (their rules must not mix), nftables runs after iptables-nft
// has cleaned up. The namespaces, the latency client and the statistics are the cross-mode
// bench's (src/bench/).
// Usage: node dist/bench/iptables/iptables.bench.js [SIZES=1000,5000,10000] [ENDPOINTS=10] [MODES=iptables-nft,iptables-legacy,nftables]
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { modeSkipReason, topologySkipReason } from '../../src/bench/preflight.js';
import { quantile } from '../../src/bench/stats.js';
import { BenchTopology } from '../../src/bench/topology.js';
import { connectSamples } from '../../src/bench/traffic.js';
import { serviceIP } from '../nftables/services.js';

const sizes = (process.argv[2] ?? '1000,5000,10000').split(',').map(Number);
const E = Number(process.argv[3] ?? 10);
const modes = (process.argv[4] ?? 'iptables-nft,nftables,iptables-legacy').split(',');

const skip = topologySkipReason() ?? (await modeSkipReason('iptables')) ?? (await modeSkipReason('nftables'));
if (skip) {
  console.log(`bench:iptables: ${skip}`);
  process.exit(0);
}

const rows: Record<string, any>[] = [];
const latency: Record<string, any>[] = [];
let topo: BenchTopology | null = null;
try {
  for (const mode of modes) {
    // iptables-legacy gets a namespace of its own; nftables follows iptables-nft in the same one.
    if (!topo || mode === 'iptables-legacy') {
      await topo?.destroy();
      topo = await BenchTopology.create(mode === 'iptables-legacy' ? 'ipl' : 'ipt');
    }
    const t = topo;
    const worker = t.spawn('node', [process.execPath, join(dirname(fileURLToPath(import.meta.url)), 'worker.js'), mode, sizes.join(','), String(E), '0']);
    worker.stderr!.pipe(process.stderr);
    for await (const l of createInterface({ input: worker.stdout! })) {
      const o = JSON.parse(l);
      if (o.ready) {
        const n = o.ready as number;
        const [a, b] = o.latency as [number, number];
        const [ta, tb] = [`${serviceIP(a)}:80`, `${serviceIP(b)}:80`];
        const m = await connectSamples(t, [ta, tb], 300);
        const q = (x: string, p: number) => quantile(m[x], p);
        latency.push({
          mode,
          services: n,
          firstP50us: Math.round(q(ta, 0.5)),
          lastP50us: Math.round(q(tb, 0.5)),
          lastMinusFirstUs: Math.round(q(tb, 0.5) - q(ta, 0.5)),
          firstP90us: Math.round(q(ta, 0.9)),
          lastP90us: Math.round(q(tb, 0.9)),
        });
        console.error(JSON.stringify(latency.at(-1)));
        worker.stdin!.write('go\n');
        continue;
      }
      rows.push(o);
      console.error(JSON.stringify(o));
    }
    if (worker.exitCode !== 0 && worker.exitCode !== null) throw new Error(`worker ${mode} exited ${worker.exitCode}`);
  }
} finally {
  await topo?.destroy();
}

console.log(
  '\nMedians of runs in one process. full: kproxy compile + restore from empty tables; bare: the same text restored alone (iptables-restore --noflush per family, or nft -f). partial: one EndpointSlice changed; bare partial: the same partial input restored alone.',
);
console.log('Wall time, then CPU time (kproxy and the processes it ran, against the bare restore alone) in brackets.');
console.log('| mode | Services × endpoints | text | full sync | bare restore | ratio (≤ 1.2) | CPU ratio | partial sync | bare partial restore | ratio (≤ 1.2) | CPU ratio | partial input | RSS |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.mode} | ${r.services} × ${r.endpoints} | ${r.textMB} MB | ${r.fullMs} ms [${r.fullCpuMs}] | ${r.bareFullMs} ms [${r.bareFullCpuMs}] | ${r.fullRatio} | ${r.fullCpuRatio} | ${r.partialMs} ms [${r.partialCpuMs}] | ${r.barePartialMs} ms [${r.barePartialCpuMs}] | ${r.partialRatio} | ${r.partialCpuRatio} | ${r.partialKB} kB | ${r.rssMB} MB |`,
  );
}
console.log(
  "\nThe bare restores above are started as kproxy starts its commands (posix_spawn: no fork of the benchmark process). Beside them, the same restores started as before (child_process, a fork of the ~200-400 MB benchmark process, which costs the reference 10-25 ms and leaves the process copy-on-write), and kproxy's process alone per full sync:",
);
console.log('| mode | Services × endpoints | kproxy alone per full sync: CPU, minor faults | bare restore, forked [CPU] | ratio against it | CPU ratio | bare partial, forked |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.mode} | ${r.services} × ${r.endpoints} | ${r.fullOwnCpuMs} ms, ${r.fullMinorFaults} | ${r.forkedBareFullMs} ms [${r.forkedBareFullCpuMs}] | ${r.forkedFullRatio} | ${r.forkedFullCpuRatio} | ${r.forkedBarePartialMs ?? 'n/a'} ms |`,
  );
}
console.log('\nFirst-packet latency (p50 / p90 of 300 TCP connects each, the Services whose KUBE-SERVICES rules come first and last, alternating):');
console.log('| mode | Services | first p50 | last p50 | last − first | first p90 | last p90 |');
console.log('|---|---|---|---|---|---|---|');
for (const l of latency) console.log(`| ${l.mode} | ${l.services} | ${l.firstP50us} µs | ${l.lastP50us} µs | ${l.lastMinusFirstUs} µs | ${l.firstP90us} µs | ${l.lastP90us} µs |`);
console.log('\n' + JSON.stringify({ rows, latency }));
