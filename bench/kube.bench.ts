// `npm run bench:kube [-- --duration 60 --services 10000 --endpoints-per-service 10 --rate 100]`
//
// The Kubernetes API source at scale, against the test API server (the same one the tests
// use, speaking real list/watch over HTTP) holding 10,000 Services and 100,000 endpoints:
//  1. kproxy (a child process: the kube source, the change tracker and the sync runner with
//     a dataplane that only counts — no kernel) from process start to the first complete
//     ProxyState, and its RSS. Targets: ≤ 3 s, ≤ 250 MB.
//     Reference, same run: a child that only GETs the same lists and JSON.parses them
//     (the floor any client pays); kproxy's figures are also given as ratios to it.
//  2. EndpointSlice updates at --rate per second for --duration seconds: every update must
//     reach kproxy (one watch event each) and the final endpoints of every updated Service
//     must be the last ones written; sync and network-programming metrics are reported.
import { fork, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defaultConfig } from '../src/config/load.js';
import type { Dataplane } from '../src/dataplanes/dataplane.js';
import { ProxyMetrics } from '../src/metrics/metrics.js';
import { ChangeTracker } from '../src/model/tracker.js';
import { kubeSource } from '../src/sources/kube/source.js';
import { getJSON } from '../src/sources/kube/request.js';
import { kubeConfigFor } from '../src/sources/kube/kubeconfig.js';
import { SyncRunner } from '../src/sync/runner.js';
import { silentLogger } from '../src/util/log.js';
import { TestAPIServer, writeKubeconfig, type Obj } from '../src/bench/apiserver.js';

const NODE = 'bench-node';
const TRIGGER = 'endpoints.kubernetes.io/last-change-trigger-time';

interface Args {
  services: number;
  endpointsPerService: number;
  duration: number;
  rate: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { services: 10_000, endpointsPerService: 10, duration: 60, rate: 100 };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split('=');
    const v = inline ?? argv[++i];
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${k}: expected a number, got ${v}`);
    if (k === '--services') a.services = n;
    else if (k === '--endpoints-per-service') a.endpointsPerService = n;
    else if (k === '--duration') a.duration = n;
    else if (k === '--rate') a.rate = n;
    else throw new Error(`unknown flag ${k} (known: --services, --endpoints-per-service, --duration SECONDS, --rate PER_SECOND)`);
  }
  return a;
}

// ---- objects -------------------------------------------------------------------------------

const ip = (base: number, n: number) => `${base}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

function serviceObj(i: number): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: `ns-${i % 100}`, labels: { app: `svc-${i}` } },
    spec: {
      type: 'ClusterIP',
      clusterIP: ip(10, (96 << 16) + i),
      clusterIPs: [ip(10, (96 << 16) + i)],
      ipFamilies: ['IPv4'],
      selector: { app: `svc-${i}` },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    },
  };
}

function sliceObj(i: number, perService: number, firstIP?: string, trigger?: string): Obj {
  const endpoints = Array.from({ length: perService }, (_, e) => ({
    addresses: [e === 0 && firstIP ? firstIP : ip(100, i * perService + e)],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: `node-${(i + e) % 500}`,
    zone: `zone-${e % 3}`,
  }));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${i}-abcde`,
      namespace: `ns-${i % 100}`,
      labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      ...(trigger ? { annotations: { [TRIGGER]: trigger } } : {}),
    },
    addressType: 'IPv4',
    endpoints,
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  };
}

// ---- the proxy side (child process) -------------------------------------------------------

type ToParent =
  | { type: 'synced'; ms: number; cpuMs: number; listedMs: number; servicePorts: number; endpoints: number; rssMB: number; heapMB: number }
  | { type: 'report'; events: number; endpoints: Record<string, string[]>; rssMB: number; maxRssMB: number; liveHeapMB: number; rssAfterGcMB: number; syncs: SyncStats; programming: Quantiles }
  | { type: 'reference'; ms: number; cpuMs: number; items: number; rssMB: number };

interface SyncStats {
  count: number;
  full: number;
  meanMs: number;
  maxMs: number;
}

interface Quantiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Resolves once the message has been handed over (exiting earlier could lose it). */
const send = (m: ToParent) => new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));
const rssMB = () => Math.round(process.memoryUsage().rss / 2 ** 20);
/** CPU time of this process so far (every thread, start-up included): unlike wall time, other work on the machine does not inflate it. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1000);
};

async function proxyChild(kubeconfig: string, wantPorts: number, wantEndpoints: number): Promise<void> {
  const t0 = Date.now();
  const config = defaultConfig();
  config.hostnameOverride = NODE;
  config.kubeconfig = kubeconfig;
  const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.0.2.10'] });
  const metrics = new ProxyMetrics();
  let first = true;
  let maxRss = 0;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMB())), 100);
  const syncs: number[] = [];
  let fullSyncs = 0;
  const dataplane: Dataplane = { mode: 'count', async sync() {} };
  let events = 0;
  let counting = false;
  let listedMs = 0;
  const runner = new SyncRunner({
    tracker,
    dataplane,
    minSyncPeriodMs: config.minSyncPeriodMs,
    syncPeriodMs: config.syncPeriodMs,
    metrics,
    onSynced: (state, info) => {
      syncs.push(info.durationMs);
      if (info.full) fullSyncs++;
      if (!first) return;
      first = false;
      let endpoints = 0;
      for (const sp of state.servicePorts.values()) endpoints += sp.allReachableEndpoints.length;
      if (state.servicePorts.size !== wantPorts || endpoints !== wantEndpoints) {
        console.error(`first sync incomplete: ${state.servicePorts.size}/${wantPorts} ports, ${endpoints}/${wantEndpoints} endpoints`);
      }
      const now = Date.now();
      send({ type: 'synced', ms: now - t0, cpuMs: cpuMs(), listedMs, servicePorts: state.servicePorts.size, endpoints, rssMB: rssMB(), heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) });
      counting = true;
    },
  });
  const source = kubeSource({
    config,
    sink: tracker,
    changed: () => {
      if (counting) events++;
      runner.requestSync();
    },
    log: silentLogger(),
  });
  await source.start();
  listedMs = Date.now() - t0;
  runner.start();
  process.on('message', async (m: { type: string; services?: string[] }) => {
    if (m.type !== 'report') return;
    await runner.idle();
    const state = tracker.current();
    const endpoints: Record<string, string[]> = {};
    for (const id of m.services ?? []) {
      const sp = state.servicePorts.get(`${id}:http/TCP/IPv4`);
      endpoints[id] = sp ? sp.allReachableEndpoints.map((e) => e.ip) : [];
    }
    const total = syncs.reduce((a, b) => a + b, 0);
    const prog = await metrics.networkProgrammingDuration.get();
    const rssBefore = rssMB();
    const maxRssMB = Math.max(maxRss, rssBefore);
    (globalThis as { gc?: () => void }).gc?.(); // diagnostic only: how much of the RSS is live
    await send({
      type: 'report',
      events,
      endpoints,
      rssMB: rssBefore,
      maxRssMB,
      liveHeapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
      rssAfterGcMB: rssMB(),
      syncs: { count: syncs.length, full: fullSyncs, meanMs: total / Math.max(1, syncs.length), maxMs: Math.max(0, ...syncs) },
      programming: quantiles(prog.values as { labels: Record<string, string | number>; value: number; metricName?: string }[]),
    });
    clearInterval(sampler);
    await source.stop();
    await runner.stop();
    process.exit(0);
  });
}

/** p50/p99 from a prom-client histogram's cumulative buckets (upper bounds, seconds). */
function quantiles(values: { labels: Record<string, string | number>; value: number; metricName?: string }[]): Quantiles {
  const buckets = values.filter((v) => v.metricName?.endsWith('_bucket') && v.labels.le !== '+Inf').map((v) => ({ le: Number(v.labels.le), n: v.value }));
  const count = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  const q = (p: number) => buckets.find((b) => b.n >= p * count)?.le ?? Infinity;
  return { count, p50: q(0.5), p99: q(0.99), max: q(1) };
}

async function referenceChild(kubeconfig: string): Promise<void> {
  const t0 = Date.now();
  const config = defaultConfig();
  config.kubeconfig = kubeconfig;
  const kc = kubeConfigFor(config);
  const lists = await Promise.all([getJSON(kc, '/api/v1/services?resourceVersion=0'), getJSON(kc, '/apis/discovery.k8s.io/v1/endpointslices?resourceVersion=0')]);
  const items = lists.reduce<number>((n, l) => n + ((l as { items: unknown[] }).items.length ?? 0), 0);
  send({ type: 'reference', ms: Date.now() - t0, cpuMs: cpuMs(), items, rssMB: rssMB() });
  // Hold the lists until the parent has read the RSS.
  process.on('message', () => process.exit(lists.length > 0 ? 0 : 1));
}

// ---- the driver (parent) --------------------------------------------------------------------

function spawnChild(args: string[]): { child: ChildProcess; next: <T extends ToParent['type']>(type: T) => Promise<Extract<ToParent, { type: T }>> } {
  const child = fork(fileURLToPath(import.meta.url), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--expose-gc', ...(process.env.CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)],
  });
  const queue: ToParent[] = [];
  const waiters: { resolve: (m: ToParent) => void; reject: (e: Error) => void }[] = [];
  let exitCode: number | null = null;
  child.on('message', (m: ToParent) => {
    const w = waiters.shift();
    if (w) w.resolve(m);
    else queue.push(m);
  });
  child.on('exit', (code) => {
    exitCode = code ?? -1;
    for (const w of waiters.splice(0)) w.reject(new Error(`child exited (${exitCode}) before its next message`));
  });
  const next = <T extends ToParent['type']>(type: T) =>
    new Promise<Extract<ToParent, { type: T }>>((resolve, reject) => {
      const take = (m: ToParent) => (m.type === type ? resolve(m as Extract<ToParent, { type: T }>) : reject(new Error(`expected ${type}, got ${m.type}`)));
      const m = queue.shift();
      if (m) take(m);
      else if (exitCode !== null) reject(new Error(`child exited (${exitCode}) before sending ${type}`));
      else waiters.push({ resolve: take, reject });
    });
  return { child, next };
}

/** The whole benchmark (flags as on the command line); prints its report. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const args = parseArgs(argv);
  const api = new TestAPIServer({ historyLimit: 1_000_000 });
  await api.start();
  const kubeconfig = writeKubeconfig(api.url);
  const perSvc = args.endpointsPerService;
  process.stdout.write(`kube source benchmark: ${args.services} Services, ${args.services * perSvc} endpoints, then ${args.rate} EndpointSlice updates/s for ${args.duration} s\n`);
  api.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.10' }] } });
  for (let i = 0; i < args.services; i++) {
    api.apply(serviceObj(i));
    api.apply(sliceObj(i, perSvc));
  }

  try {
    // Reference: fetching and parsing the same lists, nothing else.
    const tRef = Date.now();
    const ref = spawnChild(['--child=reference', kubeconfig]);
    const r = await ref.next('reference');
    const refMs = Date.now() - tRef;
    const refExit = new Promise((res) => ref.child.once('exit', res));
    ref.child.send('done');
    await refExit;

    // kproxy from process start to the first complete ProxyState.
    const t0 = Date.now();
    const proxy = spawnChild(['--child=proxy', kubeconfig, String(args.services), String(args.services * perSvc)]);
    const s = await proxy.next('synced');
    const startMs = Date.now() - t0;
    const ok = (b: boolean) => (b ? 'ok' : 'MISSED');
    process.stdout.write(
      `\n1. start → first complete ProxyState (${s.servicePorts} service ports, ${s.endpoints} endpoints)\n` +
        `   kproxy:    ${(startMs / 1000).toFixed(2)} s from spawn (${(s.ms / 1000).toFixed(2)} s after its code began: lists delivered to the model at ${(s.listedMs / 1000).toFixed(2)} s, then the first sync), RSS ${s.rssMB} MB\n` +
        `   reference: ${(refMs / 1000).toFixed(2)} s from spawn (${(r.ms / 1000).toFixed(2)} s after its code began) to GET and parse the same ${r.items} objects, RSS ${r.rssMB} MB\n` +
        `   CPU time:  kproxy ${(s.cpuMs / 1000).toFixed(2)} s, reference ${(r.cpuMs / 1000).toFixed(2)} s (from spawn, every thread; wall time grows with the machine's load, this does not); kproxy's V8 heap in use ${s.heapMB} MB\n` +
        `   ratio:     time from spawn ×${(startMs / refMs).toFixed(2)}, after code began ×${(s.ms / r.ms).toFixed(2)}, CPU ×${(s.cpuMs / r.cpuMs).toFixed(2)}, RSS ×${(s.rssMB / r.rssMB).toFixed(2)} of the reference\n` +
        `   targets:   ≤ 3 s ${ok(startMs <= 3000)} (CPU time ≤ 3 s ${ok(s.cpuMs <= 3000)}), ≤ 250 MB ${ok(s.rssMB <= 250)}; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores\n`,
    );

    // Updates at a steady rate, spread over the Services.
    const total = Math.round(args.rate * args.duration);
    const expected = new Map<number, string>();
    let sent = 0;
    const tUpd = Date.now();
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const due = Math.min(total, Math.floor(((Date.now() - tUpd) / 1000) * args.rate));
        for (; sent < due; sent++) {
          const i = (sent * 7919) % args.services; // a spread of Services, some updated repeatedly
          const marker = ip(10, (250 << 16) + sent);
          api.apply(sliceObj(i, perSvc, marker, new Date().toISOString()));
          expected.set(i, marker);
        }
        if (sent >= total) {
          clearInterval(tick);
          resolve();
        }
      }, 10);
    });
    const sendMs = Date.now() - tUpd;
    await new Promise((res) => setTimeout(res, 2500)); // minSyncPeriod (1 s) and then some
    const services = [...expected.keys()].map((i) => `ns-${i % 100}/svc-${i}`);
    proxy.child.send({ type: 'report', services });
    const rep = await proxy.next('report');
    let reflected = 0;
    for (const [i, marker] of expected) if (rep.endpoints[`ns-${i % 100}/svc-${i}`]?.includes(marker)) reflected++;
    process.stdout.write(
      `\n2. ${sent} EndpointSlice updates in ${(sendMs / 1000).toFixed(1)} s (${(sent / (sendMs / 1000)).toFixed(0)}/s) to ${expected.size} Services\n` +
        `   watch events received: ${rep.events}/${sent} ${ok(rep.events === sent)}\n` +
        `   final endpoints reflected: ${reflected}/${expected.size} Services ${ok(reflected === expected.size)}\n` +
        `   syncs: ${rep.syncs.count} (${rep.syncs.full} full), mean ${rep.syncs.meanMs.toFixed(1)} ms, max ${rep.syncs.maxMs} ms (model only: the dataplane counts)\n` +
        `   kubeproxy_network_programming_duration_seconds: ${rep.programming.count} observations, p50 ≤ ${rep.programming.p50} s, p99 ≤ ${rep.programming.p99} s\n` +
        `   RSS ${rep.rssMB} MB now, ${rep.maxRssMB} MB at most (target ≤ 400 MB ${ok(rep.maxRssMB <= 400)}); after a full GC: RSS ${rep.rssAfterGcMB} MB, live heap ${rep.liveHeapMB} MB\n`,
    );
    if (proxy.child.exitCode === null) await new Promise((res) => proxy.child.once('exit', res));
  } finally {
    await api.stop();
  }
}

// Run as a script (the parent, or a child forked from this file); imported, it only exports.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mode = process.argv.find((a) => a.startsWith('--child='))?.slice('--child='.length);
  if (mode === 'proxy') {
    const [kubeconfig, ports, endpoints] = process.argv.slice(process.argv.indexOf('--child=proxy') + 1);
    await proxyChild(kubeconfig, Number(ports), Number(endpoints));
  } else if (mode === 'reference') {
    await referenceChild(process.argv[process.argv.indexOf('--child=reference') + 1]);
  } else {
    await main();
  }
}
