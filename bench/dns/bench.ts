// `npm run bench:dns`: dnsperf against kproxy's DNS and against dnsmasq serving the same
// 10,000 A records from a hosts file, in one run, on 127.0.0.0/8 only. Reports maximum
// queries per second, p50/p99 latency at the same offered load for both, RSS, and the
// ratios against dnsmasq. Set DNS_BENCH_SERVICES, DNS_BENCH_SECONDS, DNS_BENCH_ROUNDS to vary.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchServices, hostsFile, queryFile } from './cluster.js';
import { cpuOfPid, dnsperf, rssOfPid, type PerfResult } from './measure.js';
import { median } from '../../src/bench/stats.js';

const N = Number(process.env.DNS_BENCH_SERVICES ?? 10000);
const SECONDS = Number(process.env.DNS_BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.DNS_BENCH_ROUNDS ?? 5);
/**
 * Extra Node flags for the kproxy process (default none: kproxy as `kproxy run` starts it).
 * `--max-semi-space-size=1` trades CPU for shorter scavenges: see docs/dns.md.
 */
/**
 * Offered loads for the latency rounds: a number ≤ 1 is a fraction of the slower server's
 * maximum, above 1 queries per second. The table shows the first; every one is printed per round.
 */
const RATES = (process.env.DNS_BENCH_RATES ?? '0.5').split(',').map(Number);
const LAT_ROUNDS = Number(process.env.DNS_BENCH_LAT_ROUNDS ?? 2);
const NODE_FLAGS = (process.env.DNS_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const DNSMASQ_ADDR = '127.0.0.2';
const KPROXY_ADDR = '127.0.0.3';
const ECHO_ADDR = '127.0.0.4';

function need(bin: string, pkg: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
  } catch {
    console.error(`bench:dns needs ${bin}: apt-get install -y ${pkg}`);
    process.exit(2);
  }
}

function freeUdpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function main(): Promise<void> {
  need('dnsperf', 'dnsperf');
  need('dnsmasq', 'dnsmasq-base');
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-dnsbench-'));
  chmodSync(dir, 0o755); // dnsmasq reads its hosts file as its own user
  const children: ChildProcess[] = [];
  try {
    const services = benchServices(N);
    const hosts = join(dir, 'hosts');
    const queries = join(dir, 'queries');
    writeFileSync(hosts, hostsFile(services), { mode: 0o644 });
    writeFileSync(queries, queryFile(services), { mode: 0o644 });

    // dnsmasq: the hosts file and nothing else.
    const dport = await freeUdpPort(DNSMASQ_ADDR);
    const dnsmasq = spawn(
      'dnsmasq',
      [
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        `--addn-hosts=${hosts}`,
        '--keep-in-foreground',
        `--listen-address=${DNSMASQ_ADDR}`,
        '--bind-interfaces',
        `--port=${dport}`,
        `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(dnsmasq);
    let dnsmasqErr = '';
    dnsmasq.stderr!.on('data', (d) => (dnsmasqErr += d));

    // kproxy's DNS: the same names as 10,000 Services through the real model.
    const kp = fork(join(dirname(fileURLToPath(import.meta.url)), 'server.js'), [String(N), `${KPROXY_ADDR}:0`], {
      execArgv: ['--expose-gc', ...NODE_FLAGS],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(kp);
    const ready = await new Promise<{ port: number; rssModel: number; rssZone: number; buildMs: number; names: number }>((resolve, reject) => {
      kp.once('message', (m) => resolve(m as never));
      kp.once('exit', (c) => reject(new Error(`kproxy DNS exited (${c})`)));
    });
    // The floor of any Node UDP server: echo each query back, no DNS work.
    const echo = fork(join(dirname(fileURLToPath(import.meta.url)), 'echo.js'), [ECHO_ADDR, '0'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(echo);
    const eport = await new Promise<number>((resolve) => echo.once('message', (m) => resolve((m as { port: number }).port)));
    await new Promise((r) => setTimeout(r, 500));
    if (dnsmasq.exitCode !== null) throw new Error(`dnsmasq exited: ${dnsmasqErr}`);

    console.log(`kproxy runs as: node ${NODE_FLAGS.join(' ') || '(default flags)'}; dnsperf -q 100 -c 4`);
    console.log(`${N} Services: kproxy zone ${ready.names} names built in ${ready.buildMs.toFixed(0)} ms; ${SECONDS}s × ${ROUNDS} rounds per server`);
    // Warm-up: fills kproxy's prepared answers (and dnsmasq's caches, if any).
    await dnsperf(KPROXY_ADDR, ready.port, queries, 2);
    await dnsperf(DNSMASQ_ADDR, dport, queries, 2);

    const target = { dnsmasq: [DNSMASQ_ADDR, dport], kproxy: [KPROXY_ADDR, ready.port], echo: [ECHO_ADDR, eport] } as const;
    const qps = { dnsmasq: [] as number[], kproxy: [] as number[], echo: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate who goes first: the machine is shared and its load drifts.
      const all = ['dnsmasq', 'kproxy', 'echo'] as const;
      const order = [0, 1, 2].map((i) => all[(i + r) % 3]);
      for (const who of order) {
        const res = await dnsperf(target[who][0], target[who][1], queries, SECONDS);
        qps[who].push(res.qps);
        console.log(`  round ${r + 1} ${who.padEnd(7)} ${res.qps.toFixed(0).padStart(7)} qps (lost ${res.lost})`);
      }
    }
    const dq = median(qps.dnsmasq);
    const kq = median(qps.kproxy);
    const eq = median(qps.echo);
    // Each round's ratio compares runs seconds apart: steadier than a ratio of medians when
    // the machine's load drifts.
    const kRatio = median(qps.kproxy.map((k, i) => k / qps.dnsmasq[i]));
    const eRatio = median(qps.echo.map((e, i) => e / qps.dnsmasq[i]));

    // Latency at the same offered load for both: by default half the slower server's maximum.
    const rates = RATES.map((x) => Math.floor(x <= 1 ? x * Math.min(dq, kq) : x));
    // At a fixed offered load, CPU time per query is the measure least disturbed by a busy
    // machine: it counts what each server spends, not how long it waited for a core.
    const pids = { dnsmasq: dnsmasq.pid!, kproxy: kp.pid!, echo: echo.pid! };
    let lat = { dnsmasq: [] as PerfResult[], kproxy: [] as PerfResult[], echo: [] as PerfResult[] };
    let cpuPerQuery = { dnsmasq: [] as number[], kproxy: [] as number[], echo: [] as number[] };
    const first = { lat, cpuPerQuery };
    for (const rate of rates) {
      for (let r = 0; r < LAT_ROUNDS; r++) {
        const line: string[] = [];
        for (const who of ['dnsmasq', 'kproxy', 'echo'] as const) {
          const c0 = cpuOfPid(pids[who]);
          const res = await dnsperf(target[who][0], target[who][1], queries, SECONDS, rate);
          cpuPerQuery[who].push((cpuOfPid(pids[who]) - c0) / (res.qps * SECONDS));
          lat[who].push(res);
          line.push(`${who} p50 ${((res.p50 ?? NaN) * 1e6).toFixed(0)} p99 ${((res.p99 ?? NaN) * 1e6).toFixed(0)} µs, ${(cpuPerQuery[who].at(-1)! * 1e6).toFixed(1)} µs CPU/q`);
        }
        const k = lat.kproxy.at(-1)!.p99! / lat.dnsmasq.at(-1)!.p99!;
        console.log(`  ${rate} qps round ${r + 1}: ${line.join('; ')}; kproxy/dnsmasq p99 ${k.toFixed(2)}× (load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`);
      }
      lat = { dnsmasq: [], kproxy: [], echo: [] };
      cpuPerQuery = { dnsmasq: [], kproxy: [], echo: [] };
    }
    ({ lat, cpuPerQuery } = first);
    const rate = rates[0];
    const cpu = (who: 'dnsmasq' | 'kproxy' | 'echo') => Math.min(...cpuPerQuery[who]);
    const best = (xs: PerfResult[], k: 'p50' | 'p99') => Math.min(...xs.map((x) => x[k] ?? NaN));

    kp.send({ kind: 'rss' });
    const warm = await new Promise<number>((resolve) => kp.once('message', (m) => resolve((m as { rss: number }).rss)));
    const dnsmasqRss = rssOfPid(dnsmasq.pid!);

    const us = (s: number) => `${(s * 1e6).toFixed(s < 1e-4 ? 1 : 0)} µs`;
    const extra = Math.max(warm, ready.rssZone) - ready.rssModel;
    const ratio = (k: 'p50' | 'p99', who: 'kproxy' | 'echo') => `${(best(lat[who], k) / best(lat.dnsmasq, k)).toFixed(2)}×`;
    const rows: string[][] = [
      ['max qps (median of rounds)', dq.toFixed(0), kq.toFixed(0), `${(kq / dq).toFixed(2)}×`, eq.toFixed(0), `${(eq / dq).toFixed(2)}×`],
      ['max qps, median of per-round ratios', '', '', `${kRatio.toFixed(2)}×`, '', `${eRatio.toFixed(2)}×`],
      [`p50 latency at ${rate} qps`, us(best(lat.dnsmasq, 'p50')), us(best(lat.kproxy, 'p50')), ratio('p50', 'kproxy'), us(best(lat.echo, 'p50')), ratio('p50', 'echo')],
      [`p99 latency at ${rate} qps`, us(best(lat.dnsmasq, 'p99')), us(best(lat.kproxy, 'p99')), ratio('p99', 'kproxy'), us(best(lat.echo, 'p99')), ratio('p99', 'echo')],
      [`CPU per query at ${rate} qps`, us(cpu('dnsmasq')), us(cpu('kproxy')), `${(cpu('kproxy') / cpu('dnsmasq')).toFixed(2)}×`, us(cpu('echo')), `${(cpu('echo') / cpu('dnsmasq')).toFixed(2)}×`],
      ['RSS (whole process)', `${dnsmasqRss.toFixed(1)} MB`, `${warm.toFixed(1)} MB`, '', '', ''],
      [`extra RSS of kproxy's DNS for ${N} Services`, '', `${extra.toFixed(1)} MB`, '', '', ''],
    ];
    console.log('\n| measure | dnsmasq | kproxy | kproxy / dnsmasq | node echo | echo / dnsmasq |\n|---|---:|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    console.log(`\nkproxy RSS: ${ready.rssModel.toFixed(1)} MB with the model only, ${ready.rssZone.toFixed(1)} MB with the zone, ${warm.toFixed(1)} MB after the run`);
    console.log(
      `targets: qps ≥ 1.0× dnsmasq (${kRatio >= 1 ? 'met' : 'NOT met'}), p99 ≤ 1.5× (${best(lat.kproxy, 'p99') <= 1.5 * best(lat.dnsmasq, 'p99') ? 'met' : 'NOT met'}), extra RSS ≤ 50 MB (${extra <= 50 ? 'met' : 'NOT met'})`,
    );
    console.log(`kproxy reaches ${((kq / eq) * 100).toFixed(0)}% of the qps of a Node UDP echo that does no DNS work (the ceiling of Node's dgram here)`);
    echo.send({ kind: 'stop' });
    kp.send({ kind: 'stop' });
  } finally {
    for (const c of children) if (c.exitCode === null && c.pid) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
