// A kube-proxy binary (upstream's, or any program that takes kube-proxy's flags) at one size,
// run inside the bench's node namespace (it checks first). It serves the bench's cluster
// (Services, EndpointSlices, the Node) through the list/watch API server of
// src/bench/apiserver.ts on this namespace's 127.0.0.1, starts the binary in iptables mode
// against it, and reads its syncs from its own Prometheus metrics: the first sync (from
// empty tables) and partial syncs after one EndpointSlice change. The rules must be in the
// kernel before a sync counts. Same protocol as worker.ts: {"progress"} lines, one
// {"result"}, then it waits for a line on stdin while the parent measures traffic, and at
// that line stops the binary and removes its rules.
// Usage: node kube-proxy-worker.js BINARY SERVICES ENDPOINTS FIRST_SYNC_LIMIT_MS
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { execWithTimeout } from '../util/exec.js';
import { TestAPIServer, writeKubeconfig, type Obj } from './apiserver.js';
import { NODE, nodeObject, serviceIP, serviceObject, sliceObject } from './cluster.js';
import { countIptablesRules } from './iptables-count.js';
import { cleanupNetns } from './netns-cleanup.js';
import { assertInTestNetns } from './netns-guard.js';
import { childrenOf, cpuMs, rssBytes } from './proc.js';
import { histogram, parseMetrics } from './prom-text.js';
import { median, round } from './stats.js';
import { BENCH_ADDR } from './topology.js';

assertInTestNetns();

const [binary, nText, eText, limitText] = process.argv.slice(2);
const n = Number(nText);
const E = Number(eText);
const PARTIALS = 5;
const METRICS = '127.0.0.1:10249';
const HEALTHZ = '127.0.0.1:10256';
/** The first sync may take this long (the bench's --max-sync-seconds and some), a partial sync a minute. */
const FIRST_SYNC_LIMIT_MS = Number(limitText);
const PARTIAL_LIMIT_MS = 60_000 + 2 * n;

const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fail = (message: string): never => {
  process.stderr.write(`KubeProxyError: ${message}\n`);
  process.exit(1);
};

const version = await execWithTimeout(binary, ['--version'], { timeoutMs: 20_000 }).then(
  (r) => (r.stdout || r.stderr).trim().split('\n')[0] || `exit ${r.code} without a version`,
  (e: Error) => fail(`${binary} --version: ${e.message}`),
);

// The cluster, as an API server has it.
const api = new TestAPIServer();
api.apply(nodeObject() as Obj);
for (let i = 0; i < n; i++) {
  api.apply(serviceObject(i) as Obj);
  api.apply(sliceObject(i, n, E) as Obj);
}
await api.start();
const kubeconfig = writeKubeconfig(api.url);

// kube-proxy's own flags. Conntrack sysctls are left alone: nf_conntrack_max is not per
// namespace, and the bench changes nothing outside its namespaces. The periodic resync is
// pushed past the measurement so that only the bench's changes cause syncs.
const flags = [
  `--kubeconfig=${kubeconfig}`,
  '--proxy-mode=iptables',
  `--hostname-override=${NODE}`,
  `--cluster-cidr=${BENCH_ADDR.clusterCIDR}`,
  `--metrics-bind-address=${METRICS}`,
  `--healthz-bind-address=${HEALTHZ}`,
  '--iptables-sync-period=1h',
  '--conntrack-max-per-core=0',
  '--conntrack-tcp-timeout-established=0',
  '--conntrack-tcp-timeout-close-wait=0',
];
const child = spawn(binary, flags, { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
let exited: string | null = null;
child.once('exit', (code, signal) => (exited = signal ?? `exit ${code}`));
child.once('error', (e) => (exited = e.message));
const lastLine = () => stderr.trim().split('\n').at(-1)?.trim() || 'nothing on stderr';

async function metrics(): Promise<Map<string, number> | null> {
  try {
    const r = await fetch(`http://${METRICS}/metrics`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? parseMetrics(await r.text()) : null;
  } catch {
    return null; // not listening yet
  }
}

interface SyncCounters {
  last: number;
  all: { count: number; sum: number } | null;
  full: { count: number; sum: number } | null;
  partial: { count: number; sum: number } | null;
}
const counters = (m: Map<string, number>): SyncCounters => ({
  last: m.get('kubeproxy_sync_proxy_rules_last_timestamp_seconds') ?? 0,
  all: histogram(m, 'kubeproxy_sync_proxy_rules_duration_seconds'),
  full: histogram(m, 'kubeproxy_sync_full_proxy_rules_duration_seconds'),
  partial: histogram(m, 'kubeproxy_sync_partial_proxy_rules_duration_seconds'),
});

/**
 * Waits until a sync newer than `after` is reported and `ready` holds (null: it does; else
 * what is missing); its counters.
 */
async function nextSync(after: SyncCounters | null, limitMs: number, what: string, ready: () => Promise<string | null>): Promise<SyncCounters> {
  const t0 = Date.now();
  for (;;) {
    if (exited) fail(`${binary} ended (${exited}) before ${what}: ${lastLine()}`);
    const m = await metrics();
    const c = m && counters(m);
    const synced = c !== null && c.last > 0 && c.all !== null && (!after || (c.last > after.last && c.all.count > after.all!.count));
    const missing = synced ? await ready() : null;
    if (synced && missing === null) return c;
    if (Date.now() - t0 > limitMs) {
      const why = missing ?? `${m ? 'no new kubeproxy_sync_proxy_rules_last_timestamp_seconds' : 'nothing answers'} on ${METRICS}/metrics`;
      fail(`${binary} did not report ${what} within ${Math.round(limitMs / 1000)} s (${why}): ${lastLine()}`);
    }
    await sleep(synced ? 1000 : 100); // synced but the rules not (yet) seen: read the kernel less often
  }
}

const delta = (a: { count: number; sum: number } | null, b: { count: number; sum: number } | null) =>
  a && b && b.count > a.count ? { count: b.count - a.count, ms: ((b.sum - a.sum) * 1000) / (b.count - a.count) } : null;
const proxyCpu = () => cpuMs(child.pid!, true);
const lastService = `${serviceIP(n - 1)}/32`;
const notes: string[] = [];

say({ progress: 'first sync' });
const first = await nextSync(null, FIRST_SYNC_LIMIT_MS, 'its first sync', async () =>
  (await countIptablesRules(lastService)).found ? null : `it reports a sync, but no iptables rule names the last Service's ${lastService}`,
);
const firstFull = first.full ?? first.all!;
if (first.all!.count > 1) notes.push(`its first metrics read already showed ${first.all!.count} syncs: the full-sync figure is their mean`);
const fullSyncMs = (firstFull.sum * 1000) / firstFull.count;
// The process's CPU from its start to its first sync: start-up and the initial lists included.
const fullSyncCpuMs = proxyCpu();
const rules = await countIptablesRules(lastService);

const partial: number[] = [];
const partialCpu: number[] = [];
let before = first;
for (let k = 1; k <= PARTIALS; k++) {
  say({ progress: `partial sync ${k}/${PARTIALS}` });
  const c0 = proxyCpu();
  api.apply(sliceObject(Math.floor(n / 2), n, E, k * 7919) as Obj);
  const after = await nextSync(before, PARTIAL_LIMIT_MS, `a sync after an EndpointSlice change`, async () => null);
  partialCpu.push(proxyCpu() - c0);
  const d = delta(before.partial, after.partial) ?? delta(before.all, after.all)!;
  if (!after.partial && k === 1)
    notes.push('this binary has no kubeproxy_sync_partial_proxy_rules_duration_seconds (before 1.28): the partial figure is its kubeproxy_sync_proxy_rules_duration_seconds');
  if (after.partial && !delta(before.partial, after.partial)) notes.push(`partial ${k} was a full sync`);
  partial.push(d.ms);
  before = after;
}
const rss = rssBytes(child.pid!) + childrenOf(child.pid!).reduce((s, p) => s + rssBytes(p), 0);
say({
  result: {
    variant: version,
    fullSyncMs: round(fullSyncMs, 1),
    fullSyncCpuMs: round(fullSyncCpuMs),
    partialSyncMs: round(median(partial), 2),
    partialSyncCpuMs: round(median(partialCpu)),
    rssMB: round(rss / 2 ** 20, 1),
    kernelRules: rules.rules,
    partialSyncRuns: partial.map((x) => round(x, 2)),
    ...(notes.length ? { notes } : {}),
  },
});

const stdin = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => {
  stdin.once('line', () => resolve());
  stdin.once('close', () => resolve());
});
stdin.close();
child.kill('SIGTERM');
const stopped = await Promise.race([new Promise((r) => (exited ? r(true) : child.once('exit', () => r(true)))), sleep(10_000).then(() => false)]);
if (!stopped) child.kill('SIGKILL');
await api.stop();
rmSync(dirname(kubeconfig), { recursive: true, force: true });
await cleanupNetns('iptables');
process.exit(0);
