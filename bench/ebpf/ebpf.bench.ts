// `npm run bench:ebpf`: the ebpf mode at 10,000 Services × 10 endpoints (needs root, bpf(2),
// cgroup v2). In one run:
//  - map load: a full sync of the Service tables into freshly created kernel maps, and the
//    partial sync of one EndpointSlice change (targets: ≤ 1 s, ≤ 5 ms); RSS;
//  - new-connection latency (TCP connect() handshake, µs, p50 and p99) from a Pod to the last
//    Service through the ebpf programs (client inside the cgroup), through the nftables mode's
//    ruleset for the same Services (client outside the cgroup), and directly to the Pod
//    address (the physical limit), measured alternately in each client process.
// Usage: node dist/bench/ebpf/ebpf.bench.js [SERVICES=10000] [ENDPOINTS=10] [CONNECTS=400]
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Mount } from '../../src/bpf/mounts.js';
import { probeBpf, probeSockAddr } from '../../src/bpf/probe.js';
import { defaultConfig } from '../../src/config/load.js';
import { EbpfDataplane, EbpfKernel } from '../../src/dataplanes/ebpf/apply.js';
import { cleanupEbpf } from '../../src/dataplanes/ebpf/cleanup.js';
import { compile } from '../../src/dataplanes/ebpf/compile.js';
import { compileText } from '../../src/dataplanes/nftables/compile.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';
import { ADDR, exec, kernelSkipReason, PROJECT_ROOT, Topology } from '../../test/kernel/harness.js';

const N = Number(process.argv[2] ?? 10000);
const E = Number(process.argv[3] ?? 10);
const CONNECTS = Number(process.argv[4] ?? 400);
const NODE = 'node1';
const vip = (i: number) => `10.100.${(i >> 8) & 255}.${i & 255}`;
const fake = (k: number) => `10.${200 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;

const skip = kernelSkipReason(['nft', 'ip']) ?? (cgroup2Mount() ? null : 'no cgroup2 mount') ?? probeBpf() ?? probeSockAddr('CGROUP_INET4_CONNECT');
if (skip) {
  console.log(`bench:ebpf: skipped: ${skip}`);
  process.exit(0);
}

const service = (i: number) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'bench', name: `svc-${i}` },
  spec: { clusterIP: vip(i), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
});
/** The last Service points at pod2 only (the latency target); the others at fake addresses. */
const slice = (i: number, gen = 0) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: 'bench', name: `svc-${i}-1`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
  addressType: 'IPv4',
  endpoints: (i === N - 1 ? [ADDR.pod2] : Array.from({ length: E }, (_, j) => fake(i * E + j + gen))).map((ip, j) => ({ addresses: [ip], nodeName: `node-${j}`, conditions: { ready: true } })),
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))];

const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: [ADDR.node] });
for (let i = 0; i < N; i++) {
  tracker.upsert(service(i) as never);
  tracker.upsert(slice(i) as never);
}
const state = tracker.snapshot();

const topo = await Topology.create('bebpf');
const cgroup = join(cgroup2Mount()!, `${topo.prefix}-bench`);
mkdirSync(cgroup);
const out: Record<string, unknown> = { services: N, endpoints: E, load: (await exec('cat', ['/proc/loadavg'])).stdout.trim() };
try {
  // Map load: compile, then a full sync into empty maps.
  const kernel = EbpfKernel.open({ cgroupRoot: cgroup, log: silentLogger() });
  const dp = new EbpfDataplane(kernel, null, (s) => s);
  let t0 = process.hrtime.bigint();
  const entries = compile(state);
  out.compileMs = +ms(t0).toFixed(1);
  t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  kernel.tables.applyAll(entries);
  out.mapLoadMs = +ms(t0).toFixed(1);
  const cpu = process.cpuUsage(cpu0);
  // CPU time (user + system: the bpf(2) calls run in this process) is what the load does not inflate.
  out.mapLoadCpuMs = Math.round((cpu.user + cpu.system) / 1000);
  await dp.sync(state, true); // primes the dataplane's ClusterIP bookkeeping (writes nothing new)
  // One EndpointSlice change, five times (a new generation of addresses each time).
  const partial: number[] = [];
  for (let g = 1; g <= 5; g++) {
    tracker.upsert(slice(Math.floor(N / 2), g * 1000003) as never);
    const s = tracker.snapshot();
    t0 = process.hrtime.bigint();
    await dp.sync(s, false);
    partial.push(ms(t0));
  }
  out.oneChangeMs = +q(partial, 0.5).toFixed(2);
  out.oneChangeMaxMs = +Math.max(...partial).toFixed(2);
  out.rssMB = Math.round(process.memoryUsage().rss / 2 ** 20);

  // The nftables mode's ruleset for the same Services, in the node namespace.
  const cfg = { ...defaultConfig(), mode: 'nftables' as const, clusterCIDRs: [ADDR.clusterCIDR], serviceClusterIPRange: ['10.96.0.0/12'] };
  t0 = process.hrtime.bigint();
  await topo.nft(['-f', '-'], compileText(state, cfg));
  out.nftLoadMs = Math.round(ms(t0));

  const client = join(PROJECT_ROOT, 'dist', 'test', 'kernel', 'ebpf-client.js');
  const target = `${vip(N - 1)}:80`;
  const direct = `${ADDR.pod2}:8080`;
  const run = async (inCgroup: boolean) => {
    const argv = ['ip', 'netns', 'exec', topo.ns('pod1'), process.execPath, client, 'latency', String(CONNECTS / 4), target, direct];
    const r = inCgroup ? await exec('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, ...argv], { env: topo.env }) : await exec(argv[0], argv.slice(1), { env: topo.env });
    if (r.code !== 0) throw new Error(`latency client: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, number[]>;
  };
  const lat = { ebpf: [] as number[], nftables: [] as number[], directInCgroup: [] as number[], directOutside: [] as number[] };
  for (let round = 0; round < 4; round++) {
    const a = await run(true);
    lat.ebpf.push(...a[target]);
    lat.directInCgroup.push(...a[direct]);
    const b = await run(false);
    lat.nftables.push(...b[target]);
    lat.directOutside.push(...b[direct]);
  }
  const stat = (xs: number[]) => ({ p50: Math.round(q(xs, 0.5)), p99: Math.round(q(xs, 0.99)), n: xs.length });
  out.latencyUs = Object.fromEntries(Object.entries(lat).map(([k, v]) => [k, stat(v)]));
  out.ebpfOverDirectP50 = +(q(lat.ebpf, 0.5) / q(lat.directInCgroup, 0.5)).toFixed(3);
  out.nftablesOverDirectP50 = +(q(lat.nftables, 0.5) / q(lat.directOutside, 0.5)).toFixed(3);
  kernel.close();
} finally {
  cleanupEbpf(cgroup);
  await topo.destroy();
  if (existsSync(cgroup)) rmdirSync(cgroup);
}

const L = out.latencyUs as Record<string, { p50: number; p99: number; n: number }>;
console.log(`\nebpf mode at ${N} Services × ${E} endpoints (load average at start: ${out.load})`);
console.log(`| compile | map load, full (≤ 1000 ms): wall (CPU) | one EndpointSlice change, median of 5 (≤ 5 ms) | RSS | nft -f of the nftables ruleset |`);
console.log(`|---|---|---|---|---|`);
console.log(`| ${out.compileMs} ms | ${out.mapLoadMs} ms (${out.mapLoadCpuMs} ms) | ${out.oneChangeMs} ms (max ${out.oneChangeMaxMs}) | ${out.rssMB} MB | ${out.nftLoadMs} ms |`);
console.log(`\nTCP connect() latency from a Pod to the last Service, µs (${L.ebpf.n} each, alternating with the direct Pod address in the same client):`);
console.log(`| path | p50 | p99 |`);
console.log(`|---|---|---|`);
for (const k of ['ebpf', 'directInCgroup', 'nftables', 'directOutside']) console.log(`| ${k} | ${L[k].p50} | ${L[k].p99} |`);
console.log(`\nebpf / direct (p50): ${out.ebpfOverDirectP50} (target ≤ 1.05); nftables / direct (p50): ${out.nftablesOverDirectP50}`);
console.log('\n' + JSON.stringify(out));
