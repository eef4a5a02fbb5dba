// The ipvs benchmark's worker for the ipvs mode, run inside the guest's node namespace (it
// checks). argv: SIZES ENDPOINTS. It prints the same JSON line per size as the iptables
// benchmark's worker (bench/iptables/worker.ts), which measures iptables-legacy beside it:
//  - full: kproxy's first sync from an empty kernel (compile, ipsets, iptables-restore,
//    kube-ipvs0 addresses, one ipvsadm -R) against `bare`, the same state-changing commands
//    replayed alone on an empty kernel;
//  - resync: a full sync when the kernel already holds everything (what every syncPeriod costs);
//  - partial: one EndpointSlice changed, against the time its commands themselves took;
//  - cleanup: `kproxy cleanup`'s ipvs part removing it all.
// After the partial syncs it prints {"ready":N} and waits for a line on stdin (the parent
// measures first-packet latency meanwhile), then cleans up.
import { createInterface } from 'node:readline';
import { defaultConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { IpvsDataplane } from '../../src/dataplanes/ipvs/apply.js';
import { ipvsCleanup } from '../../src/dataplanes/ipvs/cleanup.js';
import { must, type Exec } from '../../src/dataplanes/ipvs/exec.js';
import { execWithTimeout } from '../../src/util/exec.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';
import { assertInTestNetns } from '../../test/kernel/netns-guard.js';
import { NODE, serviceObject, sliceObject } from '../nftables/services.js';
import { cpuNow, cpuSince, median, ms } from '../iptables/measure.js';

assertInTestNetns();

const [sizesText, endpointsText] = process.argv.slice(2);
const sizes = sizesText.split(',').map(Number);
const E = Number(endpointsText);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const PARTIALS = Number(process.env.PARTIALS ?? 3);
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise<string>((r) => stdin.once('line', r));
const log = (s: string) => process.stderr.write(`ipvs: ${s}\n`);

const config: Config = { ...defaultConfig(), mode: 'ipvs', clusterCIDRs: ['10.244.0.0/16'], serviceClusterIPRange: ['10.96.0.0/12'], hostnameOverride: NODE };

/** kproxy's runner with a deadline for this slow guest (kproxy's own is 2 minutes a command). */
const exec: Exec = async (cmd, args, input) => {
  const r = await execWithTimeout(cmd, args, { input: input ?? '', timeoutMs: 1_800_000, maxOutputBytes: 1 << 30 });
  return { code: r.code ?? 127, stdout: r.stdout, stderr: r.stderr };
};

interface Call {
  cmd: string;
  args: string[];
  input?: string;
  ms: number;
}

/** The commands a sync ran, with how long each took. */
function recorder(): { run: Exec; calls: Call[] } {
  const calls: Call[] = [];
  const run: Exec = async (cmd, args, input) => {
    const t0 = process.hrtime.bigint();
    const r = await exec(cmd, args, input);
    calls.push({ cmd, args, input, ms: ms(t0) });
    return r;
  };
  return { run, calls };
}

/** Whether a command changes the kernel (the rest only read it). */
const writes = (c: Call) => !(c.cmd.endsWith('-save') || (c.cmd === 'ipvsadm' && c.args[0] === '-L') || (c.cmd === 'ip' && (c.args[0] === '-o' || c.args[1] === 'show')));

function fresh(run: Exec): IpvsDataplane {
  // The drain check is off: the fake endpoints a partial sync removes never had connections,
  // and a timer reading the whole table would run in the middle of the measurements.
  return new IpvsDataplane(config, silentLogger(), new ProxyMetrics().registry, { exec: run, drainCheckMs: 1 << 30 });
}

const clean = () => ipvsCleanup({ exec }).run();

for (const n of sizes) {
  const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.50.1'] });
  for (let i = 0; i < n; i++) {
    tracker.upsert(serviceObject(i) as never);
    tracker.upsert(sliceObject(i, n, E) as never);
  }
  const state = tracker.snapshot();
  const full: number[] = [];
  const fullCpu: number[] = [];
  const bareFull: number[] = [];
  const bareCpu: number[] = [];
  let textBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await clean();
    const rec = recorder();
    const dp = fresh(rec.run);
    const t0 = process.hrtime.bigint();
    const c0 = cpuNow();
    await dp.sync(state, true);
    full.push(ms(t0));
    fullCpu.push(cpuSince(c0));
    await dp.close();
    log(`${n}: full sync ${Math.round(full.at(-1)!)} ms; commands: ${rec.calls.map((c) => `${c.cmd} ${c.args[0] ?? ''} ${Math.round(c.ms)} ms`).join(', ')}`);
    const replay = rec.calls.filter(writes);
    textBytes = replay.reduce((s, c) => s + Buffer.byteLength(c.input ?? ''), 0);
    await clean();
    const t1 = process.hrtime.bigint();
    const c1 = cpuNow();
    for (const c of replay) await must(exec, c.cmd, c.args, c.input, { stderrIsError: c.cmd === 'ipvsadm' });
    bareFull.push(ms(t1));
    bareCpu.push(cpuSince(c1));
    log(`${n}: bare ${Math.round(bareFull.at(-1)!)} ms`);
  }
  // The kernel holds the whole table (the bare replay): a starting kproxy's full sync finds
  // nothing to change, as every syncPeriod's does.
  const rec = recorder();
  const dp = fresh(rec.run);
  const t0 = process.hrtime.bigint();
  await dp.sync(state, true);
  const resyncMs = ms(t0);
  log(`${n}: resync ${Math.round(resyncMs)} ms`);
  const rss = process.memoryUsage().rss;
  const partial: number[] = [];
  const partialTools: number[] = [];
  const partialCpu: number[] = [];
  let partialBytes = 0;
  for (let k = 1; k <= PARTIALS; k++) {
    tracker.upsert(sliceObject(Math.floor(n / 2), n, E, k * 7919) as never);
    const s = tracker.snapshot();
    rec.calls.length = 0;
    const t1 = process.hrtime.bigint();
    const c0 = cpuNow();
    await dp.sync(s, false);
    partial.push(ms(t1));
    partialCpu.push(cpuSince(c0));
    partialTools.push(rec.calls.reduce((sum, c) => sum + c.ms, 0));
    partialBytes = rec.calls.reduce((sum, c) => sum + Buffer.byteLength(c.input ?? ''), 0);
    log(`${n}: partial sync ${Math.round(partial.at(-1)!)} ms (${rec.calls.map((c) => c.cmd).join(', ')})`);
  }
  await dp.close();
  const result = {
    mode: 'ipvs',
    services: n,
    endpoints: E,
    textMB: +(textBytes / 1e6).toFixed(1),
    fullMs: Math.round(median(full)),
    bareFullMs: Math.round(median(bareFull)),
    fullRatio: +(median(full) / median(bareFull)).toFixed(2),
    fullCpuMs: Math.round(median(fullCpu)),
    bareFullCpuMs: Math.round(median(bareCpu)),
    resyncMs: Math.round(resyncMs),
    partialMs: +median(partial).toFixed(1),
    barePartialMs: +median(partialTools).toFixed(1),
    partialRatio: +(median(partial) / median(partialTools)).toFixed(2),
    partialCpuMs: Math.round(median(partialCpu)),
    partialKB: Math.round(partialBytes / 1000),
    rssMB: Math.round(rss / 1e6),
    fullRuns: full.map(Math.round),
    partialRuns: partial.map((x) => +x.toFixed(1)),
    cleanupMs: 0,
  };
  process.stdout.write(JSON.stringify({ ready: n, mode: 'ipvs' }) + '\n');
  await nextLine();
  const t2 = process.hrtime.bigint();
  await clean();
  result.cleanupMs = Math.round(ms(t2));
  process.stdout.write(JSON.stringify(result) + '\n');
}
stdin.close();
