// `kproxy bench`: every mode at every size in one run, against the same synthetic cluster,
// in network namespaces the bench creates and removes, with the references (a direct
// connection to the Pod, HAProxy) measured in the same run.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fdLimits } from '../util/fdlimit.js';
import { benchCgroup, removeCgroup } from './cgroup.js';
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

const HERE = dirname(fileURLToPath(import.meta.url));
const WORKER = join(HERE, 'worker.js');
const KUBE_PROXY_WORKER = join(HERE, 'kube-proxy-worker.js');

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
  /** A kube-proxy binary to measure in its iptables mode as a reference (null: none given). */
  kubeProxy?: string | null;
  quiet?: boolean;
}

export const DEFAULT_SIZES = [100, 1000, 10000, 30000];

/** How one proxy is measured: a label, and the worker that syncs it at n Services (worker.ts's protocol). */
interface Subject {
  label: string;
  worker: (n: number) => string[];
  cgroup?: string;
  keepMounts?: boolean;
}

/** Runs one proxy at one size in the topology: sync figures from the worker, traffic from the client. */
async function measureSize(topo: BenchTopology, subject: Subject, n: number, opts: BenchOptions, progress: Progress): Promise<SizeResult> {
  const { label: mode, cgroup } = subject;
  const t0 = Date.now();
  const base: SizeResult = { services: n, endpoints: opts.endpoints, status: 'measured', load1: load()[0] };
  const worker = topo.spawn('node', subject.worker(n), { keepMounts: subject.keepMounts });
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
      const message = (stderr.split('\n').find((l) => /^\w*Error\b/.test(l)) ?? stderr.trim().split('\n').at(-1))?.replace(/^KubeProxyError: /, '');
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
  const cgroup = mode === 'ebpf' ? benchCgroup(topo.prefix) : undefined;
  const subject: Subject = {
    label: mode,
    worker: (n) => [process.execPath, WORKER, mode, String(n), String(opts.endpoints), ...(cgroup ? [cgroup] : [])],
    cgroup,
    keepMounts: mode === 'ebpf',
  };
  return { mode, status: 'measured', sizes: await measureSizes(topo, subject, opts, progress) };
}

/** Every size in turn, in one topology (destroyed at the end); a size is skipped when it could not fit. */
async function measureSizes(topo: BenchTopology, subject: Subject, opts: BenchOptions, progress: Progress): Promise<SizeResult[]> {
  const { label: mode, cgroup } = subject;
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
      const r = await measureSize(topo, subject, n, opts, progress);
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
    if (cgroup) await removeCgroup(cgroup);
  }
  return sizes;
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

export const KUBE_PROXY = 'kube-proxy (iptables mode)';

/** How long a kube-proxy binary may take to report its first sync: the bench's sync limit, and time to start. */
const firstSyncLimitMs = (opts: BenchOptions) => Math.round(opts.maxFullSyncMs * 1.5) + 10_000;

/**
 * The kube-proxy binary given with --kube-proxy, in its iptables mode against the same
 * cluster served by a list/watch API server in the node namespace (kube-proxy-worker.ts).
 */
async function measureKubeProxy(binary: string | null | undefined, opts: BenchOptions, progress: Progress): Promise<Reference> {
  if (!binary) return { name: KUBE_PROXY, status: 'skipped', reason: 'no binary given (--kube-proxy PATH)' };
  const why = await modeSkipReason('iptables');
  if (why) {
    progress.step(`${KUBE_PROXY}: skipped (${why})`, opts.sizes.length);
    return { name: KUBE_PROXY, status: 'skipped', reason: why };
  }
  const topo = await BenchTopology.create('kube');
  const subject: Subject = { label: 'kube-proxy', worker: (n) => [process.execPath, KUBE_PROXY_WORKER, binary, String(n), String(opts.endpoints), String(firstSyncLimitMs(opts))] };
  const sizes = await measureSizes(topo, subject, opts, progress);
  const version = sizes.find((s) => s.variant)?.variant ?? undefined;
  return { name: KUBE_PROXY, status: 'measured', ...(version ? { version } : {}), sizes: sizes.map(({ variant, ...s }) => (void variant, s)) };
}

export async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const startLoad = load();
  const loads: number[] = [startLoad[0]];
  const progress = new Progress((opts.modes.length + (opts.kubeProxy ? 1 : 0)) * opts.sizes.length + (opts.haproxy ? 1 : 0), opts.quiet);
  const blocked = topologySkipReason();
  const modes: ModeResult[] = [];
  const references: Reference[] = [];
  try {
    if (opts.haproxy) references.push(blocked ? { name: 'HAProxy', status: 'skipped', reason: blocked } : await measureHaproxy(opts, progress));
    for (const mode of opts.modes) {
      loads.push(load()[0]);
      modes.push(blocked ? { mode, status: 'skipped', reason: blocked, sizes: [] } : await measureMode(mode, opts, progress));
    }
    loads.push(load()[0]);
    references.push(blocked && opts.kubeProxy ? { name: KUBE_PROXY, status: 'skipped', reason: blocked } : await measureKubeProxy(opts.kubeProxy, opts, progress));
  } finally {
    progress.finish();
  }
  let guest: GuestSection = { status: 'not measured', reason: 'ipvs was not among the modes asked for' };
  if (opts.modes.includes('ipvs')) {
    guest = opts.guest
      ? await measureGuestSection(opts.guestSizes, opts.endpoints, opts.guestTimeoutS, (l) => !opts.quiet && process.stderr.write(`guest: ${l}\n`))
      : { status: 'not measured', reason: 'left out (--no-guest)' };
  }
  const end = load();
  loads.push(end[0]);
  for (const m of [...modes, ...references]) for (const s of m.sizes ?? []) if (s.load1 !== undefined) loads.push(s.load1);
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
