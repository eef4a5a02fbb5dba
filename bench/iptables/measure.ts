// The iptables benchmark's measuring functions, exported for reuse (worker.ts runs them inside
// the benchmark's node namespace). For one size they time, in the same run, kproxy's full sync
// against a bare restore of the very same text (iptables-restore --noflush, or nft -f), a
// partial sync after one EndpointSlice change against a bare restore of that same partial
// input, and RSS.
import { spawn } from 'node:child_process';
import { execWith } from '../../src/util/exec.js';
import { posixSpawnLauncher } from '../../src/util/launch.js';
import { defaultConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { cleanupFamily, IptablesDataplane } from '../../src/dataplanes/iptables/apply.js';
import { toolsFor, type IptablesBackend } from '../../src/dataplanes/iptables/backend.js';
import { serviceChains } from '../../src/dataplanes/iptables/naming.js';
import { cleanupText, NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { collectText, runNft } from '../../src/dataplanes/nftables/nft.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import type { ProxyState } from '../../src/model/types.js';
import { silentLogger } from '../../src/util/log.js';
import { selfAndChildrenCpuMs } from '../../src/bench/proc.js';
import { median, msSince as ms } from '../../src/bench/stats.js';
import { NODE, serviceObject, sliceObject } from '../nftables/services.js';

export { median, msSince as ms } from '../../src/bench/stats.js';

/**
 * CPU time (ms, to the microsecond) of this process and of its children that have exited (the cross-mode bench's
 * reading, src/bench/proc.ts). A loaded machine stretches wall time; CPU time is what the
 * sync itself costs.
 */
export const cpuNow = (): number => selfAndChildrenCpuMs();
export const cpuSince = (c0: number): number => cpuNow() - c0;

/**
 * Runs a command on a text (stdin) by itself: the reference kproxy is compared with. It is
 * started as kproxy starts its own commands (posix_spawn, src/util/launch.ts), so that neither
 * side pays for a fork of this large process: the reference is the tool's own cost.
 */
export async function bare(argv: string[], text: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const r = await execWith(posixSpawnLauncher(), argv[0], argv.slice(1), { input: text, timeoutMs: 1_800_000, maxOutputBytes: 1 << 20 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code ?? r.signal}: ${r.stderr.slice(0, 500)}`);
  return ms(t0);
}

/**
 * The reference as it was started before kproxy used posix_spawn: child_process.spawn, a
 * fork() of this process. Printed beside the reference above; it is measured after kproxy's
 * syncs, because a fork leaves this process's pages copy-on-write and the next sync would pay
 * for the faults.
 */
export function bareForked(argv: string[], text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(ms(t0)) : reject(new Error(`${argv.join(' ')}: exit ${code}: ${err.slice(0, 500)}`))));
    child.stdin.on('error', () => {}); // a killed command closes the pipe: "close" reports it
    child.stdin.end(text);
  });
}

export interface Mode {
  /** A dataplane that has not synced yet. */
  fresh(): { sync(s: ProxyState, full: boolean): Promise<void>; kind(): string; inputs(): string[] };
  /** The bare command(s) for the texts a sync handed over. */
  bare(inputs: string[]): Promise<number>;
  /** The same, started as before (a fork of this process, bareForked). */
  bareForked(inputs: string[]): Promise<number>;
  /**
   * The reference for a partial sync. iptables: the same input again (it is idempotent).
   * nftables: a partial transaction deletes what it replaces and cannot run twice, so the
   * reference is nft's floor for a small transaction (as bench:nftables measures it).
   */
  barePartial(inputs: string[]): Promise<number>;
  /** Remove everything installed. */
  clean(): Promise<void>;
}

export const config: Config = { ...defaultConfig(), clusterCIDRs: ['10.244.0.0/16'], serviceClusterIPRange: ['10.96.0.0/12'], hostnameOverride: NODE };

export function iptablesMode(backend: IptablesBackend): Mode {
  const tools = toolsFor(backend, 'benchmark');
  return {
    fresh() {
      const dp = new IptablesDataplane({ ...config, mode: 'iptables' }, silentLogger(), new ProxyMetrics().registry, { tools, timeoutMs: 900_000, keepInputs: true });
      return { sync: (s, f) => dp.sync(s, f), kind: () => dp.lastSync?.kind ?? 'none', inputs: () => [dp.inputText('IPv4')!, dp.inputText('IPv6')!] };
    },
    async bare([v4, v6]) {
      return (await bare([tools.restore('IPv4'), '-w', '5', '--noflush'], v4)) + (await bare([tools.restore('IPv6'), '-w', '5', '--noflush'], v6));
    },
    async bareForked([v4, v6]) {
      return (await bareForked([tools.restore('IPv4'), '-w', '5', '--noflush'], v4)) + (await bareForked([tools.restore('IPv6'), '-w', '5', '--noflush'], v6));
    },
    barePartial(inputs) {
      return this.bare(inputs);
    },
    async clean() {
      // kproxy's own cleanup (one restore per family). With the nft backend, deleting many
      // chains that way is slow, and the namespace is the benchmark's own: drop its tables.
      if (backend === 'nft') await bare(['nft', '-f', '-'], 'flush ruleset\n');
      else for (const f of ['IPv4', 'IPv6'] as const) await cleanupFamily(tools, f);
    },
  };
}

export function nftablesMode(): Mode {
  return {
    fresh() {
      let text = '';
      const dp = new NftablesDataplane({ ...config, mode: 'nftables' }, silentLogger(), new ProxyMetrics().registry, {
        nft: async (input) => {
          text = await collectText(input);
          await runNft(text);
        },
      });
      return { sync: (s, f) => dp.sync(s, f), kind: () => dp.lastSync.kind, inputs: () => [text] };
    },
    bare: ([text]) => bare(['nft', '-f', '-'], text),
    bareForked: ([text]) => bareForked(['nft', '-f', '-'], text),
    barePartial: () => bare(['nft', '-f', '-'], 'add element ip kproxy cluster-ips { 10.111.255.254 }\ndelete element ip kproxy cluster-ips { 10.111.255.254 }\n'),
    clean: () => runNft(cleanupText()),
  };
}

/**
 * The Services whose first packets the latency figure compares: for the iptables modes those
 * whose nat KUBE-SERVICES rules come first and last (kproxy orders them by KUBE-SVC chain name,
 * descending), so the difference is the cost of walking the whole chain; for nftables, the
 * first and the last by number (its lookup does not depend on position).
 */
export function latencyPair(mode: string, n: number): [number, number] {
  if (mode === 'nftables') return [0, n - 1];
  const names = Array.from({ length: n }, (_, i) => ({ i, chain: serviceChains({ servicePortName: `bench/svc-${i}:http`, protocol: 'TCP' }).svc }));
  names.sort((a, b) => (a.chain > b.chain ? -1 : 1));
  return [names[0].i, names[n - 1].i];
}

/**
 * One size, measured in this process (which must run inside a test namespace): kproxy's full
 * sync against a bare restore of the same text, ROUNDS times from empty tables; partial syncs
 * after one EndpointSlice change against a bare restore of the same input, PARTIALS times;
 * RSS. The cross-mode benchmark can call it as well.
 */
export async function measureSize(mode: string, m: Mode, n: number, E: number, ROUNDS = 3, PARTIALS = 5) {
  const real = new Set(latencyPair(mode, n));
  const slice = (i: number, generation = 0) => {
    const s = sliceObject(i, n, E, generation);
    return real.has(i) ? { ...sliceObject(0, n, E), metadata: s.metadata } : s;
  };
  const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.50.1'] });
  for (let i = 0; i < n; i++) {
    tracker.upsert(serviceObject(i) as never);
    tracker.upsert(slice(i) as never);
  }
  const state = tracker.snapshot();
  const full: number[] = [];
  const bareFull: number[] = [];
  const fullCpu: number[] = [];
  const bareCpu: number[] = [];
  const fullOwnCpu: number[] = [];
  const fullFaults: number[] = [];
  let textBytes = 0;
  let fullInputs: string[] = [];
  let lastPartialInputs: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // From empty tables each time: the first sync of a starting proxy, then the same text bare.
    await m.clean();
    const dp = m.fresh();
    const t0 = process.hrtime.bigint();
    const c0 = cpuNow();
    const u0 = process.resourceUsage();
    await dp.sync(state, true);
    full.push(ms(t0));
    fullCpu.push(cpuSince(c0));
    const u1 = process.resourceUsage();
    fullOwnCpu.push((u1.userCPUTime + u1.systemCPUTime - u0.userCPUTime - u0.systemCPUTime) / 1000);
    fullFaults.push(u1.minorPageFault - u0.minorPageFault);
    process.stderr.write(`${mode} ${n}: full sync ${Math.round(full.at(-1)!)} ms\n`);
    const inputs = dp.inputs();
    fullInputs = inputs;
    textBytes = inputs.reduce((s, t) => s + Buffer.byteLength(t), 0);
    await m.clean();
    const c1 = cpuNow();
    bareFull.push(await m.bare(inputs));
    bareCpu.push(cpuSince(c1));
    process.stderr.write(`${mode} ${n}: bare ${Math.round(bareFull.at(-1)!)} ms\n`);
  }
  await m.clean();
  const dp = m.fresh();
  await dp.sync(state, true);
  const rss = process.memoryUsage().rss;
  // Partial syncs: one EndpointSlice changes (a new set of endpoint addresses) each time;
  // the reference is a bare restore of the very input that partial sync handed over.
  const partial: number[] = [];
  const bartial: number[] = [];
  const partialCpu: number[] = [];
  const bartialCpu: number[] = [];
  let partialBytes = 0;
  for (let k = 1; k <= PARTIALS; k++) {
    tracker.upsert(slice(Math.floor(n / 2), k * 7919) as never);
    const s = tracker.snapshot();
    const t0 = process.hrtime.bigint();
    const c0 = cpuNow();
    await dp.sync(s, false);
    partial.push(ms(t0));
    partialCpu.push(cpuSince(c0));
    process.stderr.write(`${mode} ${n}: partial sync ${Math.round(partial.at(-1)!)} ms\n`);
    if (dp.kind() !== 'partial') throw new Error(`expected a partial sync, got ${dp.kind()}`);
    const inputs = dp.inputs();
    partialBytes = inputs.reduce((s2, t) => s2 + Buffer.byteLength(t), 0);
    const c1 = cpuNow();
    bartial.push(await m.barePartial(inputs));
    bartialCpu.push(cpuSince(c1));
    lastPartialInputs = inputs;
  }
  // The references started as before (a fork of this process), last: see bareForked.
  const forkedFull: number[] = [];
  const forkedCpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await m.clean();
    const c1 = cpuNow();
    forkedFull.push(await m.bareForked(fullInputs));
    forkedCpu.push(cpuSince(c1));
  }
  const forkedPartial: number[] = [];
  for (let k = 1; k <= PARTIALS && mode !== 'nftables'; k++) forkedPartial.push(await m.bareForked(lastPartialInputs));
  return {
    mode,
    services: n,
    endpoints: E,
    textMB: +(textBytes / 1e6).toFixed(1),
    fullMs: Math.round(median(full)),
    bareFullMs: Math.round(median(bareFull)),
    fullRatio: +(median(full) / median(bareFull)).toFixed(2),
    partialMs: +median(partial).toFixed(1),
    barePartialMs: +median(bartial).toFixed(1),
    partialRatio: +(median(partial) / median(bartial)).toFixed(2),
    partialKB: Math.round(partialBytes / 1000),
    // CPU (kproxy + its restore processes) against the bare restore's CPU: not stretched by load.
    fullCpuMs: Math.round(median(fullCpu)),
    bareFullCpuMs: Math.round(median(bareCpu)),
    fullCpuRatio: +(median(fullCpu) / median(bareCpu)).toFixed(2),
    partialCpuMs: Math.round(median(partialCpu)),
    barePartialCpuMs: Math.round(median(bartialCpu)),
    partialCpuRatio: +(median(partialCpu) / Math.max(median(bartialCpu), 1)).toFixed(2),
    rssMB: Math.round(rss / 1e6),
    // kproxy's process alone per full sync (its restore processes not included).
    fullOwnCpuMs: Math.round(median(fullOwnCpu)),
    fullMinorFaults: Math.round(median(fullFaults)),
    // The previous reference (child_process, a fork of this process), beside the one above.
    forkedBareFullMs: Math.round(median(forkedFull)),
    forkedBareFullCpuMs: Math.round(median(forkedCpu)),
    forkedFullRatio: +(median(full) / median(forkedFull)).toFixed(2),
    forkedFullCpuRatio: +(median(fullCpu) / median(forkedCpu)).toFixed(2),
    forkedBarePartialMs: forkedPartial.length ? +median(forkedPartial).toFixed(1) : null,
    fullRuns: full.map(Math.round),
    bareFullRuns: bareFull.map(Math.round),
    partialRuns: partial.map((x) => +x.toFixed(1)),
    latencyServices: [...real],
  };
}
