// `npm run bench:ipvs`: the ipvs mode against iptables mode (iptables-legacy) in one
// user-mode-Linux guest, in one run (bench/ipvs/guest-bench.ts does the work), then the
// nftables mode and iptables-legacy on this machine's own kernel (bench/iptables), because the
// guest kernel has no nftables: the host's iptables-legacy row is the bridge between the two.
// Needs root. Usage:
//   node dist/bench/ipvs/ipvs.bench.js [SIZES=1000,10000] [ENDPOINTS=10] [--no-host] [--json]
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../test/kernel/uml/launcher.js';
import { runIpvsGuestBench, type IpvsGuestBench } from './guest-bench.js';

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const sizes = (positional[0] ?? '1000,10000').split(',').map(Number);
const E = Number(positional[1] ?? 10);
const host = !args.includes('--no-host');

const t0 = Date.now();
process.stderr.write(`bench:ipvs: booting the user-mode-Linux guest (sizes ${sizes.join(', ')} × ${E} endpoints; load ${loadavg()[0].toFixed(1)})\n`);
const guest = await runIpvsGuestBench({ sizes, endpoints: E, onLog: (t) => process.stderr.write(t) });
if (guest.skipped) {
  console.log(`bench:ipvs: ${guest.skipped}`);
  process.exit(0);
}

/** The host's nftables and iptables-legacy figures, from bench/iptables in a namespace of this kernel. */
async function hostReference(): Promise<{ rows: Record<string, number | string>[]; latency: Record<string, number | string>[] } | null> {
  const c = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'bench', 'iptables', 'iptables.bench.js'), sizes.join(','), String(E), 'nftables,iptables-legacy'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROUNDS: '1', PARTIALS: '3' },
  });
  let text = '';
  c.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  await new Promise((r) => c.on('close', r));
  const last = text.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as { rows: Record<string, number | string>[]; latency: Record<string, number | string>[] };
  } catch {
    process.stderr.write(`bench:ipvs: the host reference gave no figures: ${text.slice(-500)}\n`);
    return null;
  }
}
const hostLoad = loadavg().map((x) => +x.toFixed(1));
const hostFigures = host ? await hostReference() : null;

if (args.includes('--json')) {
  console.log(JSON.stringify({ guest, host: hostFigures }));
  process.exit(0);
}

const row = (g: IpvsGuestBench, mode: string, n: number) => g.rows.find((r) => r.mode === mode && r.services === n);
const lat = (g: IpvsGuestBench, mode: string, n: number) => g.latency.find((r) => r.mode === mode && r.services === n);
const x = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? `${(a / b).toFixed(2)}×` : '–');
const f = (v: unknown, unit = 'ms') => (v === undefined ? '–' : `${v} ${unit}`);

console.log(`\nIn the user-mode-Linux guest (Linux ${guest.guestKernel}, one CPU, syscalls through ptrace), one run; host load averages ${guest.hostLoad.join(' ')} at the start.`);
console.log(
  'Sync: full = first sync from an empty kernel; bare = the same kernel input applied by the tools alone; partial = one EndpointSlice changed (ipvs: beside the time spent in its tools; iptables: beside the same input restored bare).',
);
console.log(
  '| Services × endpoints | ipvs full (bare) | iptables-legacy full (bare) | ipvs / iptables | ipvs partial (tools) | iptables-legacy partial (bare) | ipvs / iptables | ipvs resync | ipvs cleanup | RSS ipvs / iptables |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const n of sizes) {
  const v = row(guest, 'ipvs', n);
  const i = row(guest, 'iptables-legacy', n);
  console.log(
    `| ${n} × ${E} | ${f(v?.fullMs)} (${f(v?.bareFullMs)}) | ${f(i?.fullMs)} (${f(i?.bareFullMs)}) | ${x(v?.fullMs, i?.fullMs)} | ${f(v?.partialMs)} (${f(v?.barePartialMs)}) | ${f(i?.partialMs)} (${f(i?.barePartialMs)}) | ${x(v?.partialMs, i?.partialMs)} | ${f(v?.resyncMs)} | ${f(v?.cleanupMs)} | ${f(v?.rssMB, 'MB')} / ${f(i?.rssMB, 'MB')} |`,
  );
}
console.log(
  `\nFirst-packet latency in the guest: TCP handshake from the client namespace through the node, ${guest.connects} connections per target, p50 / p99; direct = straight to the pod, no Service (the reference).`,
);
console.log('| mode | Services | first Service | last Service | direct to the pod | last / direct (p50) |');
console.log('|---|---|---|---|---|---|');
for (const n of sizes) {
  for (const mode of ['ipvs', 'iptables-legacy']) {
    const l = lat(guest, mode, n);
    if (!l) continue;
    const p = (q: { p50Us: number; p99Us: number } | undefined) => (q ? `${q.p50Us} / ${q.p99Us} µs` : '–');
    console.log(`| ${mode} | ${n} | ${p(l.first)} | ${p(l.last)} | ${p(l.direct)} | ${x(l.last?.p50Us, l.direct?.p50Us)} |`);
  }
}
console.log(
  `\nIn the guest, a 64-byte request and its echo on a kept-alive connection (${5 * guest.connects} round trips per target), and the CPU time per new connection of the client, the pods and the node namespace (connect, 1 byte each way, close), each beside the direct path to the pod.`,
);
console.log('| mode | Services | request p50 / p99 | direct | ÷ direct (p50) | CPU per connection | direct | ÷ direct |');
console.log('|---|---|---|---|---|---|---|---|');
for (const n of sizes) {
  for (const mode of ['ipvs', 'iptables-legacy']) {
    const t = lat(guest, mode, n)?.traffic;
    if (!t) continue;
    const p = (q: { p50: number; p99: number }) => `${Math.round(q.p50)} / ${Math.round(q.p99)} µs`;
    const c = t.cpuPerConnectionUs;
    console.log(
      `| ${mode} | ${n} | ${p(t.request.service)} | ${p(t.request.direct)} | ${x(t.request.service.p50, t.request.direct.p50)} | ${Math.round(c.service)} µs | ${Math.round(c.direct)} µs | ${x(c.service, c.direct)} |`,
    );
  }
}
if (hostFigures) {
  console.log(
    `\nOn this machine's own kernel (network namespaces, bench/iptables), right after the guest; load averages ${hostLoad.join(' ')} before it. The guest has no nftables; the host's iptables-legacy row relates the two kernels.`,
  );
  console.log('| mode | Services × endpoints | full sync (bare) | partial sync (bare) | RSS |');
  console.log('|---|---|---|---|---|');
  for (const r of hostFigures.rows)
    console.log(`| ${r.mode} (host) | ${r.services} × ${r.endpoints} | ${r.fullMs} ms (${r.bareFullMs} ms) | ${r.partialMs} ms (${r.barePartialMs} ms) | ${r.rssMB} MB |`);
  console.log('| mode | Services | first p50 / p90 | last p50 / p90 |');
  console.log('|---|---|---|---|');
  for (const l of hostFigures.latency) console.log(`| ${l.mode} (host) | ${l.services} | ${l.firstP50us} / ${l.firstP90us} µs | ${l.lastP50us} / ${l.lastP90us} µs |`);
}
for (const e of guest.errors) console.log(`error: ${e}`);
console.log(`\nbench:ipvs took ${Math.round((Date.now() - t0) / 1000)} s (guest ${Math.round(guest.wallMs / 1000)} s).`);
console.log('\n' + JSON.stringify({ guest, host: hostFigures }));
