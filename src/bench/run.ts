// `kproxy bench`: every mode at every size in one run, against the same synthetic cluster,
// in network namespaces the bench creates and removes, with the references (a direct
// connection to the Pod, HAProxy) measured in the same run.
import { mkdirSync, rmdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cgroup2Mount } from '../bpf/mounts.js';
import { fdLimits } from '../util/fdlimit.js';
import { serviceIP, SERVICE_PORT } from './cluster.js';
import { measureGuestSection } from './guest.js';
import { haproxyVersion, startHaproxy } from './haproxy.js';
import { describeMachine, load } from './machine.js';
import { modeSkipReason, topologySkipReason } from './preflight.js';
import { Progress } from './progress.js';
import { round } from './stats.js';
import { BenchTopology } from './topology.js';
import { measureTraffic, type TrafficPlan } from './traffic.js';
import { REPORT_FORMAT, type BenchResults, type GuestSection, type ModeResult, type Reference, type SizeResult } from './types.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');

/**
 * The userspace mode holds a listening socket per Service port and address: a cluster that needs
 * more descriptors than the open-files hard limit cannot be proxied, and its sync would fail on
 * EMFILE part-way. Said up front instead (null: it fits).
 */
function userspaceFdSkip(services: number): string | null {
  const hard = fdLimits()?.hard;
  const needed = services + 1024; // one listener per Service (one port each), plus room for the rest
  if (hard === undefined || needed <= hard) return null;
  return `not started: the userspace mode needs a listening socket per Service port, about ${needed} descriptors at ${services} Services, over this machine's open-files hard limit of ${hard} (ulimit -Hn)`;
}

export interface BenchOptions {
  sizes: number[];
  endpoints: number;
  modes: string[];
  haproxy: boolean;
  /** Whether to run the guest benchmark (ipvs); it runs only when ipvs is among the modes. */
  guest: boolean;
  /** Sizes for the guest (user-mode Linux on one CPU is slow), and how long it may take. */
  guestSizes: number[];
  guestTimeoutS: number;
  kproxyVersion: string;
  /** A size is not started when the last size's full sync, scaled up, would take longer. */
  maxFullSyncMs: number;
  /** A worker (one mode at one size) is stopped after this long. */
  workerTimeoutMs: number;
  traffic: Pick<TrafficPlan, 'connects' | 'requests' | 'cpuConnections'>;
  quiet?: boolean;
}

export const DEFAULT_SIZES = [100, 1000, 10000, 30000];

/** Runs one mode at one size in the topology: sync figures from the worker, traffic from the client. */
async function measureSize(topo: BenchTopology, mode: string, n: number, opts: BenchOptions, cgroup: string | undefined, progress: Progress): Promise<SizeResult> {
  const t0 = Date.now();
  const base: SizeResult = { services: n, endpoints: opts.endpoints, status: 'measured', load1: load()[0] };
  const worker = topo.spawn('node', [process.execPath, WORKER, mode, String(n), String(opts.endpoints), ...(cgroup ? [cgroup] : [])], { keepMounts: mode === 'ebpf' });
  let stderr = '';
  worker.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const exited = new Promise<number | null>((r) => worker.once('close', (code) => r(code)));
  const timer = setTimeout(() => worker.pid && worker.kill('SIGKILL'), opts.workerTimeoutMs);
  try {
    let sync: Partial<SizeResult> | null = null;
    for await (const line of createInterface({ input: worker.stdout! })) {
      const o = JSON.parse(line) as { progress?: string; result?: Partial<SizeResult> };
      if (o.progress) progress.show(`${mode} × ${n}: ${o.progress}`);
      if (o.result) {
        sync = o.result;
        break;
      }
    }
    if (!sync) {
      const code = await exited;
      const why = code === null ? `stopped after ${Math.round(opts.workerTimeoutMs / 60000)} min` : `exit ${code}`;
      // The error's own line ("FooError: message") rather than the source line printed above it.
      const message = stderr.split('\n').find((l) => /^\w*Error\b/.test(l)) ?? stderr.trim().split('\n').at(-1);
      return { ...base, status: 'failed', reason: `the sync worker failed (${why}): ${message?.trim() || 'no message'}` };
    }
    progress.show(`${mode} × ${n}: traffic`);
    const syncS = round((Date.now() - t0) / 1000, 1);
    const last = n - 1;
    const traffic = await measureTraffic(topo, { ...opts.traffic, first: `${serviceIP(0)}:${SERVICE_PORT}`, last: `${serviceIP(last)}:${SERVICE_PORT}`, cgroup });
    return { ...base, ...sync, ...traffic, wallS: { sync: syncS, traffic: round((Date.now() - t0) / 1000 - syncS, 1) } };
  } catch (e) {
    return { ...base, status: 'failed', reason: (e as Error).message.split('\n')[0] };
  } finally {
    worker.stdin!.end('done\n');
    // It removes what it installed, then exits; a worker stuck at that is stopped.
    let grace: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise((r) => (grace = setTimeout(() => r('timeout'), 120_000)))]);
    clearTimeout(grace);
    clearTimeout(timer);
    if (code === 'timeout' && worker.pid) {
      worker.kill('SIGKILL');
      await exited;
    }
  }
}

async function measureMode(mode: string, opts: BenchOptions, progress: Progress): Promise<ModeResult> {
  const why = await modeSkipReason(mode);
  if (why) {
    progress.step(`${mode}: skipped (${why})`, opts.sizes.length);
    return { mode, status: 'skipped', reason: why, sizes: [] };
  }
  const topo = await BenchTopology.create(mode.slice(0, 4));
  // The ebpf mode balances the connections of one cgroup: the client runs in it.
  const cgroup = mode === 'ebpf' ? join(cgroup2Mount()!, `${topo.prefix}-clients`) : undefined;
  const sizes: SizeResult[] = [];
  try {
    if (cgroup) mkdirSync(cgroup);
    let stop: string | null = null;
    let prev: SizeResult | null = null;
    for (const n of opts.sizes) {
      if (!stop && prev?.status === 'measured' && prev.fullSyncMs !== undefined) {
        const projected = (prev.fullSyncMs * n) / prev.services;
        if (projected > opts.maxFullSyncMs)
          stop = `not started: the full sync at ${prev.services} Services took ${round(prev.fullSyncMs / 1000, 1)} s, so at ${n} it would take about ${round(projected / 1000)} s, over the bench's limit of ${round(opts.maxFullSyncMs / 1000)} s`;
      }
      if (!stop && prev?.status === 'failed') stop = `not started: the size before failed`;
      if (!stop && mode === 'userspace') stop = userspaceFdSkip(n);
      if (stop) {
        sizes.push({ services: n, endpoints: opts.endpoints, status: 'skipped', reason: stop });
        stop = `not started: a smaller size was not started either`;
        progress.step(`${mode} × ${n}: skipped`);
        continue;
      }
      const r = await measureSize(topo, mode, n, opts, cgroup, progress);
      sizes.push(r);
      prev = r;
      progress.step(
        r.status === 'measured'
          ? `${mode} × ${n}: full sync ${r.fullSyncMs} ms, partial ${r.partialSyncMs} ms, first packet p50 ${r.firstPacket?.last.p50} µs (direct ${r.firstPacket?.direct.p50})`
          : `${mode} × ${n}: ${r.status}: ${r.reason}`,
      );
    }
  } finally {
    await topo.destroy();
    if (cgroup && existsSync(cgroup)) {
      try {
        rmdirSync(cgroup);
      } catch {
        // still has processes for a moment; they are gone with the namespaces
      }
    }
  }
  return { mode, status: 'measured', sizes };
}

async function measureHaproxy(opts: BenchOptions, progress: Progress): Promise<Reference> {
  const ref: Reference = { name: 'HAProxy', status: 'skipped' };
  const version = haproxyVersion();
  if (!version) return { ...ref, reason: 'haproxy is not installed (scripts/setup.sh installs it)' };
  const topo = await BenchTopology.create('hapr');
  try {
    progress.show('HAProxy: traffic');
    const h = await startHaproxy(topo);
    try {
      const traffic = await measureTraffic(topo, { ...opts.traffic, first: h.target, last: h.target });
      return { name: 'HAProxy', status: 'measured', version, traffic };
    } finally {
      h.stop();
    }
  } catch (e) {
    return { ...ref, version, reason: (e as Error).message.split('\n')[0] };
  } finally {
    await topo.destroy();
    progress.step('HAProxy measured');
  }
}

export const KUBE_PROXY_REFERENCE: Reference = {
  name: 'kube-proxy (upstream, iptables mode)',
  status: 'not built',
  reason: 'the bench cannot yet run an upstream kube-proxy binary against the same objects (that needs an API server serving them); --kube-proxy is not available',
};

export async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const startLoad = load();
  const loads: number[] = [startLoad[0]];
  const progress = new Progress(opts.modes.length * opts.sizes.length + (opts.haproxy ? 1 : 0), opts.quiet);
  const blocked = topologySkipReason();
  const modes: ModeResult[] = [];
  const references: Reference[] = [];
  try {
    if (opts.haproxy) references.push(blocked ? { name: 'HAProxy', status: 'skipped', reason: blocked } : await measureHaproxy(opts, progress));
    for (const mode of opts.modes) {
      loads.push(load()[0]);
      modes.push(blocked ? { mode, status: 'skipped', reason: blocked, sizes: [] } : await measureMode(mode, opts, progress));
    }
  } finally {
    progress.finish();
  }
  references.push(KUBE_PROXY_REFERENCE);
  let guest: GuestSection = { status: 'not measured', reason: 'ipvs was not among the modes asked for' };
  if (opts.modes.includes('ipvs')) {
    guest = opts.guest
      ? await measureGuestSection(opts.guestSizes, opts.endpoints, opts.guestTimeoutS, (l) => !opts.quiet && process.stderr.write(`guest: ${l}\n`))
      : { status: 'not measured', reason: 'left out (--no-guest)' };
  }
  const end = load();
  loads.push(end[0]);
  for (const m of modes) for (const s of m.sizes) if (s.load1 !== undefined) loads.push(s.load1);
  const finished = new Date();
  return {
    format: REPORT_FORMAT,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationS: Math.round((finished.getTime() - started.getTime()) / 1000),
    options: { sizes: opts.sizes, endpoints: opts.endpoints, modes: opts.modes, ...(opts.modes.includes('ipvs') && opts.guest ? { guestSizes: opts.guestSizes } : {}) },
    machine: { ...describeMachine(opts.kproxyVersion, haproxyVersion()), load: { start: startLoad, end, min1: Math.min(...loads), max1: Math.max(...loads) } },
    modes,
    references,
    guest,
  };
}
