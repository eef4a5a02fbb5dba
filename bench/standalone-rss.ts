// bench:standalone, part 3: the resident set of a real `kproxy run --manifests <folder>
// --proxy-mode nftables`, the whole process (manifests source, model, nftables dataplane,
// metrics and health servers), at N Services × 10 Pods. kproxy runs inside the node
// namespace of the bench's own topology (src/bench/topology.ts), never in the root
// namespace. Figures, read from /proc: the time and CPU to the first sync (its log line),
// VmRSS 3 s and 15 s after it, and VmHWM (the peak). Reference: the same command on an empty
// folder (what Node and kproxy's code cost before any object). With Services, also VmRSS
// about 60 s after the first sync, 28 s after the first periodic full sync (syncPeriod 30 s)
// and just before the next one: the figure a running proxy settles at between full syncs.
// KPROXY_RSS_FOLLOW_MIN=N follows the run N minutes more: per periodic full sync, the RSS it
// settled at, the highest RSS after it and kproxy's CPU over the period (does RSS creep?).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { modeSkipReason, topologySkipReason } from '../src/bench/preflight.js';
import { liveCpuAndFaults } from '../src/bench/proc.js';
import { BENCH_ADDR, BenchTopology } from '../src/bench/topology.js';
import { podYAML, serviceYAML } from './standalone-folder.js';

const KPROXY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'kproxy.js');
const ENDPOINTS = 10;
const FILES = 100;
const TARGET_MB = 250;

function status(pid: number): { rssMB: number; hwmMB: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}
function writeFolder(services: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-bench-rss-'));
  const pods = services * ENDPOINTS;
  for (let f = 0; f < FILES; f++) {
    const docs: string[] = [];
    for (let i = Math.floor((f * services) / FILES); i < Math.floor(((f + 1) * services) / FILES); i++) docs.push(serviceYAML(i));
    for (let i = Math.floor((f * pods) / FILES); i < Math.floor(((f + 1) * pods) / FILES); i++) docs.push(podYAML(i, 8080, false));
    if (docs.length > 0) writeFileSync(join(dir, `part-${String(f).padStart(3, '0')}.yaml`), docs.join('---\n'));
  }
  return dir;
}

interface RunFigures {
  firstSyncS: number;
  cpuS: number;
  soonMB: number;
  idleMB: number;
  peakMB: number;
  /** VmRSS just before the second periodic full sync (null: not waited for). */
  steadyMB: number | null;
  /** The highest VmRSS sampled (every 500 ms) from 15 s after the first sync until then (a periodic full sync's transient). */
  periodicMaxMB: number | null;
  line: string;
  /** KPROXY_RSS_FOLLOW_MIN: one entry per periodic full sync followed (see followPeriods). */
  periods: PeriodFigures[];
}

/** One periodic full sync, from 2 s before it to 2 s before the next. */
interface PeriodFigures {
  /** VmRSS 2 s before the next periodic sync: what the process settled at after this one. */
  settledMB: number;
  /** The highest VmRSS sampled (every second) in the period: the sync's transient. */
  maxMB: number;
  /** kproxy's CPU (user + system) over the period: the full sync, its quiet collection, and idle work. */
  cpuMs: number;
  /** kproxy's minor page faults over the period (fresh pages written: a steadier figure than CPU). */
  faults: number;
}

const SYNC_PERIOD_MS = 30_000;
/** Following a longer run (creep): minutes after the steady reading, 0 = not followed. */
const FOLLOW_MIN = Number(process.env.KPROXY_RSS_FOLLOW_MIN ?? 0);

/**
 * How long to wait, from now, for the steady figure: 2 s before a periodic full sync, at
 * least 30 s after the first one. The periodic syncs run every syncPeriod from the start of
 * the first sync (`startedAt`: its log line's time less its duration), not from its end; a
 * full sync's text and garbage stay resident until the quiet collection about 7 s after it
 * (util/settle-memory.ts), so a fixed 60 s after the first sync's line (4 to 8 s after the
 * second periodic sync at 10,000 Services) read that transient (+20 MB) instead.
 */
function steadyDelayMs(startedAt: number): number {
  let at = startedAt + 2 * SYNC_PERIOD_MS - 2000;
  while (at < performance.now()) at += SYNC_PERIOD_MS;
  return at - performance.now();
}

/** One `kproxy run` on the folder, in the topology's node namespace, until 15 s (`steady`: about 60 s) after its first sync. */
async function runOnce(topo: BenchTopology, dir: string, nodeArgs: string[], steady: boolean): Promise<RunFigures> {
  const argv = [process.execPath, ...nodeArgs, KPROXY, 'run', '--manifests', dir, '--proxy-mode', 'nftables', '--hostname-override', 'bench-node'];
  argv.push('--cluster-cidr', BENCH_ADDR.clusterCIDR, '--service-cluster-ip-range', BENCH_ADDR.serviceCIDR);
  argv.push('--metrics-bind-address', '127.0.0.1:10249', '--healthz-bind-address', '127.0.0.1:10256');
  const t0 = performance.now();
  const child = topo.spawn('node', argv);
  child.stdin!.end();
  let log = ''; // kproxy logs to stderr, one JSON line each
  child.stdout!.resume();
  try {
    const lines = createInterface({ input: child.stderr! });
    let line = '';
    const exited = new Promise<never>((_, reject) => child.once('exit', (c) => reject(new Error(`kproxy exited (${c}) before its first sync: ${log.trim().slice(-800)}`))));
    const synced = (async () => {
      for await (const l of lines) {
        if (l.includes('first sync')) return (line = l);
        log = (log + l + '\n').slice(-4000);
      }
      throw new Error(`kproxy closed its output before its first sync: ${log.trim().slice(-800)}`);
    })();
    await Promise.race([synced, exited, sleep(300_000, null, { ref: false }).then(() => Promise.reject(new Error('no first sync within 300 s')))]);
    const syncedAt = performance.now();
    child.stderr!.resume(); // readline let go of it: later log lines must not fill the pipe
    const firstSyncS = (syncedAt - t0) / 1000;
    const pid = child.pid!; // `ip netns exec` execs: the PID is kproxy's
    const cpuS = liveCpuAndFaults(pid).cpuMs / 1000;
    await sleep(3000);
    const soon = status(pid);
    await sleep(12_000);
    const idle = status(pid);
    let last = idle;
    const parsed = JSON.parse(line) as { msg?: string; ms?: number };
    let periodicMaxMB: number | null = null;
    if (steady) {
      const until = performance.now() + steadyDelayMs(syncedAt - (parsed.ms ?? 0));
      periodicMaxMB = idle.rssMB;
      while (performance.now() < until) {
        await sleep(Math.min(500, until - performance.now()));
        periodicMaxMB = Math.max(periodicMaxMB, status(pid).rssMB);
      }
      last = status(pid);
    }
    const periods = steady && FOLLOW_MIN > 0 ? await followPeriods(pid, FOLLOW_MIN * 60_000) : [];
    if (periods.length > 0) last = status(pid);
    const msg = parsed.msg ?? line;
    return { firstSyncS, cpuS, soonMB: soon.rssMB, idleMB: idle.rssMB, peakMB: last.hwmMB, steadyMB: steady ? last.rssMB : null, periodicMaxMB, line: msg, periods };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

/**
 * Follows the process from 2 s before a periodic full sync for `ms`: per period, the RSS it
 * settled at (2 s before the next sync), the highest RSS sampled every second, and its CPU.
 * Each line is printed as it completes, so a long run can be watched (and cut short).
 */
async function followPeriods(pid: number, ms: number): Promise<PeriodFigures[]> {
  const periods: PeriodFigures[] = [];
  const end = performance.now() + ms;
  let at = performance.now(); // called 2 s before a periodic sync
  let last = liveCpuAndFaults(pid);
  while (at + SYNC_PERIOD_MS <= end) {
    const next = at + SYNC_PERIOD_MS;
    let maxMB = 0;
    while (performance.now() < next) {
      await sleep(Math.max(0, Math.min(1000, next - performance.now())));
      maxMB = Math.max(maxMB, status(pid).rssMB);
    }
    const settledMB = status(pid).rssMB;
    const now = liveCpuAndFaults(pid);
    const p = { settledMB, maxMB, cpuMs: now.cpuMs - last.cpuMs, faults: now.minorFaults - last.minorFaults };
    last = now;
    at = next;
    periods.push(p);
    const minutes = ((periods.length * SYNC_PERIOD_MS) / 60_000).toFixed(1);
    console.log(
      `   periodic sync ${String(periods.length).padStart(3)} (+${minutes} min): settled ${p.settledMB.toFixed(1)} MB, highest ${p.maxMB.toFixed(1)} MB, CPU ${p.cpuMs.toFixed(0)} ms, ${p.faults} page faults`,
    );
  }
  return periods;
}

const row = (what: string, value: string, target: string, ok: boolean | null) =>
  console.log(`${what.padEnd(52)} ${value.padStart(12)}   target ${target.padEnd(10)} ${ok === null ? '' : ok ? 'OK' : 'MISSED'}`);

export async function processRss(sizes: number[], nodeArgs: string[] = (process.env.KPROXY_NODE_ARGS ?? '').split(' ').filter(Boolean)): Promise<void> {
  const skip = topologySkipReason() ?? (await modeSkipReason('nftables'));
  if (skip) return void console.log(`\n3. kproxy run --manifests, whole-process RSS: skipped (${skip})`);
  const topo = await BenchTopology.create('rss');
  try {
    const empty = writeFolder(0);
    let ref: RunFigures;
    try {
      ref = await runOnce(topo, empty, nodeArgs, false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    for (const n of sizes) {
      const dir = writeFolder(n);
      try {
        const r = await runOnce(topo, dir, nodeArgs, true);
        console.log(`\n3. kproxy run --manifests <${n} Services × ${ENDPOINTS} Pods> --proxy-mode nftables${nodeArgs.length ? ` (node ${nodeArgs.join(' ')})` : ''}`);
        console.log(`   ${r.line}`);
        row('first sync after (wall, from spawn)', `${r.firstSyncS.toFixed(2)} s`, '-', null);
        row('  CPU time of the process until then', `${r.cpuS.toFixed(2)} s`, '-', null);
        row('RSS 3 s after the first sync', `${r.soonMB.toFixed(0)} MB`, n <= 10_000 ? `<= ${TARGET_MB} MB` : '-', n <= 10_000 ? r.soonMB <= TARGET_MB : null);
        row('RSS 15 s after the first sync', `${r.idleMB.toFixed(0)} MB`, n <= 10_000 ? `<= ${TARGET_MB} MB` : '-', n <= 10_000 ? r.idleMB <= TARGET_MB : null);
        const steady = r.steadyMB!;
        row('RSS ≈60 s after (28 s after a periodic full sync)', `${steady.toFixed(0)} MB`, n <= 10_000 ? `<= ${TARGET_MB} MB` : '-', n <= 10_000 ? steady <= TARGET_MB : null);
        row('  highest in between (a periodic full sync, ~8 s)', `${r.periodicMaxMB!.toFixed(0)} MB`, '-', null);
        if (r.periods.length > 0) {
          const cpu = r.periods.map((p) => p.cpuMs).sort((a, b) => a - b);
          row(`followed: ${r.periods.length} periodic syncs, settled first → last`, `${r.periods[0].settledMB.toFixed(0)} → ${r.periods.at(-1)!.settledMB.toFixed(0)} MB`, '-', null);
          const faults = r.periods.map((p) => p.faults).sort((a, b) => a - b);
          row('  CPU per periodic full sync (median of the periods)', `${cpu[cpu.length >> 1].toFixed(0)} ms`, '-', null);
          row('  minor page faults per period (median)', `${faults[faults.length >> 1]}`, '-', null);
        }
        row('peak RSS (VmHWM)', `${r.peakMB.toFixed(0)} MB`, '-', null);
        row('reference: the same on an empty folder, RSS at 15 s', `${ref.idleMB.toFixed(0)} MB`, '-', null);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await topo.destroy();
  }
}
