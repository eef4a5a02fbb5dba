// npm run bench:userspace — the userspace proxy against a direct connection and HAProxy, in
// one run, on loopback, against the same backend process: bulk throughput, request/response
// latency on a persistent connection, new connections per second, and RSS with ~10,000 idle
// connections. kproxy runs twice: with its defaults (the splice path where koffi works, worker
// processes per --userspace-workers auto) and on the JavaScript fallback path in one process. Then a CPU profile of kproxy under bulk and connection load, summarised.
// Each measurement is taken in several rounds, the three targets interleaved, and the median
// reported: the machine is shared, and ratios from the same moments are what count.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { loadLibc } from '../../src/dataplanes/userspace/splice/libc.js';
import { bulk, connCount, connRate, latency, openIdle } from './clients.js';
import { cpuSeconds, rssMB } from './proc.js';
import { median } from '../../src/bench/stats.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const BULK_MS = 2000;
const REQUESTS = 10_000;
const CONN_MS = 2000;
const IDLE = Number(process.env.IDLE ?? 9_900); // the fd limit here is 20,000: 2 per proxied connection
const root = fileURLToPath(new URL('../../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));

const pre = `127.${10 + Math.floor(Math.random() * 240)}.${Math.floor(Math.random() * 256)}`;
const BACKEND = `${pre}.100`;
const KPROXY = `${pre}.1`;
const HAPROXY = `${pre}.2`;
const KPROXY_JS = `${pre}.3`; // kproxy on the JavaScript path, one process
/** Worker processes of the default kproxy: $WORKERS, else what --userspace-workers auto gives. */
const WORKERS = process.env.WORKERS ?? 'auto';
const ECHO = 18080;
const BULK = 18081;
const SOURCES = Array.from({ length: 16 }, (_, i) => `${pre}.${200 + i}`);
const children: ChildProcess[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'kproxy-bench-'));

function start(cmd: string, args: string[], ready: () => Promise<boolean>, opts: { stdout?: boolean; env?: Record<string, string> } = {}): Promise<ChildProcess> {
  const c = spawn(cmd, args, { stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'pipe'], env: { ...process.env, ...opts.env } });
  children.push(c);
  let err = '';
  c.stderr!.on('data', (d) => (err += d));
  return (async () => {
    for (let i = 0; i < 100; i++) {
      if (c.exitCode !== null) throw new Error(`${cmd} exited: ${err}`);
      if (await ready()) return c;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${cmd} did not come up: ${err}`);
  })();
}

const answers = (host: string, port: number) => () =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => s.write('x'));
    s.once('data', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function startKproxy(extra: string[] = [], vip = KPROXY, env: Record<string, string> = {}): Promise<ChildProcess> {
  const dir = join(tmp, `manifests-${vip}`);
  rmSync(dir, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(
    join(dir, 'bench.yaml'),
    `apiVersion: v1
kind: Service
metadata: {name: bench, namespace: default}
spec:
  clusterIP: ${vip}
  ports: [{name: echo, port: ${ECHO}}, {name: bulk, port: ${BULK}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: bench-1, namespace: default, labels: {kubernetes.io/service-name: bench}}
addressType: IPv4
endpoints: [{addresses: [${BACKEND}]}]
ports: [{name: echo, port: ${ECHO}}, {name: bulk, port: ${BULK}}]
`,
  );
  const args = [
    ...extra,
    join(root, 'bin/kproxy.js'),
    'run',
    '--manifests',
    dir,
    '--proxy-mode',
    'userspace',
    '--hostname-override',
    'bench',
    '--metrics-bind-address',
    '',
    '--healthz-bind-address',
    '',
  ];
  args.push('--userspace-workers', env.KPROXY_USERSPACE_BULK === 'js' ? '0' : WORKERS);
  return start(process.execPath, args, answers(vip, ECHO), { env });
}

async function startHaproxy(): Promise<ChildProcess | null> {
  let have = spawnSync('haproxy', ['-v']).status === 0;
  if (!have && process.getuid?.() === 0) {
    process.stderr.write('installing haproxy (Debian package) for the comparison...\n');
    spawnSync('apt-get', ['install', '-y', '-qq', 'haproxy'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    have = spawnSync('haproxy', ['-v']).status === 0;
  }
  if (!have) {
    process.stderr.write('HAProxy is not installed (apt-get install haproxy, as root): its column is left out\n');
    return null;
  }
  // The equivalent of the userspace proxy: plain TCP forwarding, HAProxy's defaults otherwise
  // (one thread per core, no splicing).
  const cfg = join(tmp, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `global
  maxconn ${IDLE + 50}
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
frontend echo
  bind ${HAPROXY}:${ECHO}
  default_backend echo
backend echo
  server s1 ${BACKEND}:${ECHO}
frontend bulk
  bind ${HAPROXY}:${BULK}
  default_backend bulk
backend bulk
  server s1 ${BACKEND}:${BULK}
`,
  );
  return start('haproxy', ['-db', '-f', cfg], answers(HAPROXY, ECHO));
}

interface Row {
  bulk: number[];
  p50: number[];
  p99: number[];
  conns: number[];
  /** The proxy's CPU time per new connection (µs) and per GB of bulk data (ms): robust to noise. */
  cpuPerConn: number[];
  cpuPerGB: number[];
}

async function measure(targets: Record<string, string>, pids: Record<string, number | undefined>): Promise<Record<string, Row>> {
  const rows: Record<string, Row> = {};
  for (const t of Object.keys(targets)) rows[t] = { bulk: [], p50: [], p99: [], conns: [], cpuPerConn: [], cpuPerGB: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, host] of Object.entries(targets)) {
      let c0 = cpuSeconds(pids[name]);
      if (process.env.ONLY === 'latency') {
        const [p50, p99] = await latency(host, ECHO, REQUESTS);
        rows[name].p50.push(p50);
        rows[name].p99.push(p99);
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${name}: p50 ${p50.toFixed(0)} µs, p99 ${p99.toFixed(0)} µs\n`);
        continue;
      }
      if (process.env.ONLY === 'conn') {
        const rate = await connRate(host, ECHO, CONN_MS, 32, SOURCES);
        rows[name].conns.push(rate);
        rows[name].cpuPerConn.push(((cpuSeconds(pids[name]) - c0) * 1e6) / ((rate * CONN_MS) / 1000));
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${name}: ${rate.toFixed(0)} conn/s, ${rows[name].cpuPerConn.at(-1)!.toFixed(0)} µs CPU/conn\n`);
        continue;
      }
      const gbit = await bulk(host, BULK, BULK_MS);
      rows[name].bulk.push(gbit);
      rows[name].cpuPerGB.push(((cpuSeconds(pids[name]) - c0) * 1000) / ((gbit / 8) * ((BULK_MS + 300) / 1000)));
      if (process.env.ONLY === 'bulk') {
        process.stderr.write(`round ${r + 1}/${ROUNDS} ${name}: ${gbit.toFixed(1)} Gbit/s, ${rows[name].cpuPerGB.at(-1)!.toFixed(0)} ms CPU/GB\n`);
        continue;
      }
      const [p50, p99] = await latency(host, ECHO, REQUESTS);
      rows[name].p50.push(p50);
      rows[name].p99.push(p99);
      c0 = cpuSeconds(pids[name]);
      const rate = await connRate(host, ECHO, CONN_MS, 32, SOURCES);
      rows[name].conns.push(rate);
      rows[name].cpuPerConn.push(((cpuSeconds(pids[name]) - c0) * 1e6) / ((rate * CONN_MS) / 1000));
      process.stderr.write(`round ${r + 1}/${ROUNDS} ${name}: ${rows[name].bulk.at(-1)!.toFixed(1)} Gbit/s, p50 ${p50.toFixed(0)} µs, ${rows[name].conns.at(-1)!.toFixed(0)} conn/s\n`);
    }
  }
  return rows;
}

async function idleRss(host: string, pid: number): Promise<{ before: number; after: number }> {
  const before = rssMB(pid);
  const socks = await openIdle(host, ECHO, IDLE, SOURCES);
  await new Promise((r) => setTimeout(r, 2000));
  const after = rssMB(pid);
  for (const s of socks) s.destroy();
  await new Promise((r) => setTimeout(r, 1000));
  return { before, after };
}

/** The kproxy process under bulk and connection load with --cpu-prof: self time by function. */
async function profile(load = 'both'): Promise<string[]> {
  const dir = join(tmp, 'prof');
  const kp = await startKproxy(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  await new Promise((r) => setTimeout(r, 1000)); // the splice thread starts
  if (load !== 'conn') await bulk(KPROXY, BULK, 3000);
  if (load !== 'bulk') await connRate(KPROXY, ECHO, 3000, 32, SOURCES);
  kp.kill('SIGTERM');
  await new Promise((r) => kp.once('exit', r));
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return ['(no profile written)'];
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: { id: number; hitCount: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  };
  const self = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const f = n.callFrame;
    if (f.functionName === '(idle)') continue;
    const where = f.url ? `${f.url.replace(/^.*\/(node_modules|dist)\//, '').replace(/^node:/, 'node:')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + n.hitCount);
    total += n.hitCount;
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
}

/** strace -c -f on `pid` while 2,000 connections go through `host`: [total per connection, the top calls per connection]. */
async function syscallsPerConn(host: string, pid: number): Promise<string[]> {
  const out = join(tmp, `strace-${pid}`);
  const st = spawn('strace', ['-c', '-f', '-qq', '-o', out, '-p', String(pid)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000)); // attached to every thread
  const N = Number(process.env.CONNS ?? 2000);
  let n = 0;
  while (n < N) n += await connCount(host, ECHO, 32, SOURCES, N - n);
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  const rows = readFileSync(out, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && /^\d/.test(f[0]) && f.at(-1) !== 'total')
    .map((f) => ({ name: f.at(-1)!, calls: Number(f[3]) }))
    .sort((a, b) => b.calls - a.calls);
  const total = rows.reduce((s, r) => s + r.calls, 0);
  return [`${(total / n).toFixed(1)} syscalls per connection (${n} connections)`, ...rows.slice(0, 12).map((r) => `${r.name} ${(r.calls / n).toFixed(2)}`)];
}

async function main(): Promise<void> {
  await start(process.execPath, [join(here, 'backend.js'), BACKEND, String(ECHO), String(BULK)], answers(BACKEND, ECHO));
  if (process.env.ONLY === 'rss') {
    // a quick look at kproxy's memory alone
    const kp = await startKproxy((process.env.NODE_ARGS ?? '').split(' ').filter(Boolean));
    const r = await idleRss(KPROXY, kp.pid!);
    process.stdout.write(`kproxy RSS ${r.before.toFixed(0)} MB idle → ${r.after.toFixed(0)} MB with ${IDLE} connections (${(((r.after - r.before) * 1024) / IDLE).toFixed(1)} kB each)\n`);
    return;
  }
  if (process.env.ONLY === 'profile') {
    process.stdout.write((await profile(process.env.LOAD)).join('\n') + '\n');
    return;
  }
  if (process.env.ONLY === 'syscalls') {
    // system calls per new connection, every thread of the proxy (strace -c -f): a count that
    // load does not change, unlike a rate
    const kp = await startKproxy();
    const ha = await startHaproxy();
    await new Promise((r) => setTimeout(r, 1500)); // the splice thread starts
    for (const [name, host, pid] of [
      ['kproxy', KPROXY, kp.pid],
      ['haproxy', HAPROXY, ha?.pid],
    ] as const) {
      if (!pid) continue;
      process.stdout.write(`${name}: ${(await syscallsPerConn(host, pid)).join(', ')}\n`);
    }
    return;
  }
  const kp = await startKproxy();
  const kw = await startKproxy([], KPROXY_JS, { KPROXY_USERSPACE_BULK: 'js' });
  const ha = await startHaproxy();
  await new Promise((r) => setTimeout(r, 2000)); // worker processes start
  const targets: Record<string, string> = { direct: BACKEND, kproxy: KPROXY };
  targets.kproxyJs = KPROXY_JS;
  if (ha) targets.haproxy = HAPROXY;
  const rows = await measure(targets, { kproxy: kp.pid, kproxyJs: kw.pid, haproxy: ha?.pid });
  if (process.env.ONLY === 'latency') {
    const added = (t: string, i: number) => rows[t].p50[i] - rows.direct.p50[i];
    const per = rows.haproxy ? rows.kproxy.p50.map((_, i) => added('kproxy', i) / added('haproxy', i)) : [];
    process.stdout.write(
      `kproxy vs HAProxy, added p50: ${per.length ? median(per).toFixed(2) : '—'} × (per round: ${per.map((x) => x.toFixed(2)).join(', ')}); load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
    );
    return;
  }
  if (process.env.ONLY === 'bulk' || process.env.ONLY === 'conn') {
    const f = process.env.ONLY === 'bulk' ? 'bulk' : 'conns';
    if (rows.haproxy)
      process.stdout.write(
        `kproxy vs HAProxy, ${f}: ${(median(rows.kproxy[f]) / median(rows.haproxy[f])).toFixed(2)} × (per round: ${rows.kproxy[f].map((x, i) => (x / rows.haproxy[f][i]).toFixed(2)).join(', ')}); load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
      );
    return;
  }

  process.stderr.write(`opening ${IDLE} idle connections through kproxy${ha ? ' and HAProxy' : ''}...\n`);
  // a fresh kproxy, so that the figure is the idle connections' cost, not the earlier load's
  kp.kill('SIGTERM');
  await new Promise((r) => kp.once('exit', r));
  const kp2 = await startKproxy();
  const kRss = await idleRss(KPROXY, kp2.pid!);
  const hRss = ha ? await idleRss(HAPROXY, ha.pid!) : null;
  kp2.kill('SIGTERM');
  kw.kill('SIGTERM');
  if (ha) ha.kill('SIGTERM');

  process.stderr.write('profiling kproxy...\n');
  const prof = await profile();

  const k = rows.kproxy;
  const w = rows.kproxyJs;
  const h = rows.haproxy;
  const d = rows.direct;
  const fmt = (x: number | undefined, digits = 1) => (x === undefined || Number.isNaN(x) ? '—' : x.toFixed(digits));
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? `${(a / b).toFixed(2)} ×` : '—');
  const m = (r: Row | undefined, f: keyof Row) => (r ? median(r[f]) : undefined);
  const added = (r: Row | undefined) => (r ? median(r.p50) - median(d.p50) : undefined);
  const row = (what: string, f: keyof Row, digits: number, target: string, dir = true) =>
    `| ${what} | ${dir ? fmt(m(d, f), digits) : '—'} | ${fmt(m(k, f), digits)} | ${fmt(m(w, f), digits)} | ${fmt(m(h, f), digits)} | ${ratio(m(k, f), m(h, f))} | ${ratio(m(w, f), m(h, f))} | ${target} |`;
  const lines = [
    `| measurement | direct | kproxy | kproxy, JavaScript path | HAProxy | kproxy vs HAProxy | JavaScript path vs HAProxy | target |`,
    `|---|---|---|---|---|---|---|---|`,
    row('bulk throughput (one connection), Gbit/s', 'bulk', 1, '≥ 1.5 ×'),
    `| request/response p50, µs (added over direct) | ${fmt(median(d.p50), 0)} | ${fmt(m(k, 'p50'), 0)} (+${fmt(added(k), 0)}) | ${fmt(m(w, 'p50'), 0)} (+${fmt(added(w), 0)}) | ${fmt(m(h, 'p50'), 0)} (+${fmt(added(h), 0)}) | ${ratio(added(k), added(h))} | ${ratio(added(w), added(h))} | added ≤ HAProxy's |`,
    row('request/response p99, µs', 'p99', 0, '—'),
    row('new connections/s (32 in parallel)', 'conns', 0, '≥ 1.0 ×'),
    row('proxy CPU per new connection, µs', 'cpuPerConn', 0, '—', false),
    row('proxy CPU per GB of bulk data, ms', 'cpuPerGB', 0, '≤ 0.5 ×', false),
    `| RSS idle → with ${IDLE} idle connections, MB | — | ${fmt(kRss.before, 0)} → ${fmt(kRss.after, 0)} (≈ ${fmt(kRss.before + ((kRss.after - kRss.before) * 10000) / IDLE, 0)} at 10,000) | — | ${hRss ? `${fmt(hRss.before, 0)} → ${fmt(hRss.after, 0)}` : '—'} | ${fmt(((kRss.after - kRss.before) * 1024) / IDLE, 1)} kB per connection | — | ≤ 120 MB |`,
  ];
  const path = loadLibc() ? 'splice (koffi loaded)' : 'JavaScript (koffi unavailable)';
  process.stdout.write(
    `\nkproxy: bulk path ${path}, --userspace-workers ${WORKERS} (${availableParallelism()} cores); load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
  );
  process.stdout.write(`\n${lines.join('\n')}\n\n(medians of ${ROUNDS} interleaved rounds; bulk ${BULK_MS} ms, ${REQUESTS} requests of 64 bytes, connections for ${CONN_MS} ms with 32 in parallel)\n`);
  process.stdout.write(`\nkproxy CPU profile under bulk + connection load (self time, idle excluded):\n${prof.join('\n')}\n`);
}

try {
  await main();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
