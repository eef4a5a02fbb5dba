// Soak benchmark (not a test): two `kproxy run` processes under mixed churn for SOAK_MINUTES
// (default 30), inside a network namespace the benchmark creates (only 127.0.0.0/8 is used):
//   A: userspace mode on a manifests folder — folder edits with garbage, alias bombs, deep JSON,
//      truncated files, symlink loops, bad names; Pods whose readiness probes fail; UDP from
//      many source addresses to a UDP Service (bench/soak/folder.ts);
//   B: nftables mode on a real list/watch API server — Services added and removed, forced
//      re-lists answered first with garbage, malformed watch events, and an `nft` that fails
//      or hangs now and then (bench/soak/api.ts).
// A good Service of each is probed every 100 ms, and so is the backend directly (the
// reference: a probe that fails there too failed because of the machine, not kproxy).
// Reports crashes, probe counts and failures by reason, RSS and open descriptors of each
// kproxy, what they logged as errors, and the machine's load average.
//   npm run bench:soak            SOAK_MINUTES=3 npm run bench:soak
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertInTestNetns } from '../../test/kernel/netns-guard.js';
import { writeKubeconfig } from '../../src/bench/apiserver.js';
import { ApiChurn, nftWrapper, type NftMode } from './api.js';
import { FolderChurn, slice, svc } from './folder.js';
import { duringStalls, newStats, probeOnce, summary } from './probe.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SELF), '../../..');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const VIP = '127.96.50.1'; // A's good Service (manifests folder, userspace)
const UDP_VIP = '127.96.50.2';
const VIP_B = '127.96.60.1'; // B's good Service (API server, nftables)
const BACKEND = '127.0.77.1';

/** Outside: create the namespace, run the soak inside it, remove it whatever happens. */
async function outer(): Promise<void> {
  const ns = `kproxy-soak-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, SELF], { stdio: 'inherit', env: { ...process.env, KPROXY_SOAK_NETNS: ns, KPROXY_TEST_NETNS: ns } });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    process.exitCode = code ?? 1;
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

interface Kproxy {
  name: string;
  child: ChildProcess;
  crashes: number;
  rss: [number, number];
  fds: [number, number];
  errors: Map<string, number>;
}

function startKproxy(name: string, args: string[], env: NodeJS.ProcessEnv, stopping: () => boolean): Kproxy {
  const k: Kproxy = { name, child: null as never, crashes: 0, rss: [Infinity, 0], fds: [Infinity, 0], errors: new Map() };
  const run = () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/kproxy.js'), 'run', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    k.child = child;
    let buf = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const o = JSON.parse(line) as { level?: number; msg?: string };
          if ((o.level ?? 0) >= 40) k.errors.set(o.msg ?? '?', (k.errors.get(o.msg ?? '?') ?? 0) + 1);
        } catch {
          if (line.trim()) k.errors.set(`(not JSON) ${line.slice(0, 100)}`, (k.errors.get(`(not JSON) ${line.slice(0, 100)}`) ?? 0) + 1);
        }
      }
    });
    child.on('exit', (code, sig) => {
      if (stopping()) return;
      k.crashes++;
      console.error(`kproxy ${name} exited (${code ?? sig}); restarting`);
      run();
    });
  };
  run();
  return k;
}

function sample(k: Kproxy): void {
  try {
    const status = readFileSync(`/proc/${k.child.pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    const fds = readdirSync(`/proc/${k.child.pid}/fd`).length;
    k.rss = [Math.min(k.rss[0], rss), Math.max(k.rss[1], rss)];
    k.fds = [Math.min(k.fds[0], fds), Math.max(k.fds[1], fds)];
  } catch {
    // between restarts
  }
}

async function main(): Promise<void> {
  assertInTestNetns();
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-soak-'));
  const manifests = join(dir, 'manifests');
  let stopping = false;

  // Backends: TCP (answers "ok") and UDP echo.
  const tcp = net.createServer((s) => {
    s.on('error', () => {}); // a client reset is not the benchmark's failure
    s.end('ok\n');
  });
  await new Promise<void>((r) => tcp.listen(8080, BACKEND, () => r()));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, r) => udp.send(msg, r.port, r.address));
  udp.on('error', () => {});
  await new Promise<void>((r) => udp.bind(5353, BACKEND, () => r()));

  const folder = new FolderChurn(manifests);
  folder.write('good.yaml', svc('good', VIP) + '---\n' + slice('good', BACKEND, 8080));
  folder.write('udp.yaml', svc('udp', UDP_VIP, 'UDP', 53) + '---\n' + slice('udp', BACKEND, 5353, 'UDP'));
  const a = startKproxy(
    'A (userspace, folder)',
    ['--manifests', manifests, '--proxy-mode', 'userspace', '--healthz-bind-address', '127.0.0.1:0', '--metrics-bind-address', '', '--hostname-override', 'soak-node', '--udp-idle-timeout', '5s'],
    process.env,
    () => stopping,
  );

  const apiChurn = new ApiChurn(VIP_B, BACKEND);
  await apiChurn.start();
  const realNft = execFileSync('sh', ['-c', 'command -v nft'], { encoding: 'utf8' }).trim();
  const nft = nftWrapper(dir, realNft);
  const b = startKproxy(
    'B (nftables, API server)',
    ['--kubeconfig', writeKubeconfig(apiChurn.api.url), '--proxy-mode', 'nftables', '--healthz-bind-address', '', '--metrics-bind-address', '', '--hostname-override', 'soak-node'],
    { ...process.env, PATH: `${nft.bin}:${process.env.PATH}` },
    () => stopping,
  );
  // Both good Services answer before the clock starts (a first sync can take seconds under load).
  for (const [host, port] of [
    [VIP, 80],
    [VIP_B, 80],
  ] as const) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = newStats();
      probeOnce(host, port, s, 0);
      await new Promise((r) => setTimeout(r, 200));
      if (s.ok > 0) break;
      if (Date.now() > deadline) throw new Error(`${host}:${port} never answered`);
    }
  }

  const t0 = Date.now();
  const probes = { a: newStats(), b: newStats(), direct: newStats() };
  const load = { min: Infinity, max: 0 };
  let udpSent = 0;
  let nftMode: NftMode = 'ok';
  let slot = 0;
  const timers = [
    setInterval(() => {
      probeOnce(VIP, 80, probes.a, t0);
      probeOnce(VIP_B, 80, probes.b, t0);
      probeOnce(BACKEND, 8080, probes.direct, t0);
    }, 100),
    setInterval(() => {
      sample(a);
      sample(b);
      const l = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
      load.min = Math.min(load.min, l);
      load.max = Math.max(load.max, l);
    }, 1000),
    // UDP from many source addresses: 200 new sockets a second, each sending one datagram.
    setInterval(() => {
      for (let i = 0; i < 20; i++) {
        const c = dgram.createSocket('udp4');
        c.on('error', () => c.close());
        c.bind(0, `127.0.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}`, () => {
          c.send('x', 53, UDP_VIP, () => setTimeout(() => c.close(), 200));
          udpSent++;
        });
      }
    }, 100),
    setInterval(() => folder.next(), 250),
    setInterval(() => apiChurn.editService(), 1000),
    setInterval(() => apiChurn.relist(), 7000),
    // nft: fails for 10 s of every 2 minutes, and hangs once every 2 minutes (until kproxy's deadline).
    setInterval(() => {
      const s = slot++ % 12;
      nftMode = s === 3 ? 'fail' : s === 9 ? 'hang' : 'ok';
      if (nftMode === 'fail') apiChurn.nftFailures++;
      if (nftMode === 'hang') apiChurn.nftHangs++;
      nft.setMode(nftMode);
      if (nftMode === 'hang') setTimeout(() => nft.setMode('ok'), 1000); // one hanging call is enough
    }, 10_000),
  ];

  while (Date.now() - t0 < MINUTES * 60_000) {
    await new Promise((r) => setTimeout(r, Math.min(30_000, MINUTES * 60_000)));
    const min = ((Date.now() - t0) / 60_000).toFixed(1);
    console.log(
      `${min} min: A ${summary(probes.a)}; B ${summary(probes.b)}; direct ${summary(probes.direct)}; crashes ${a.crashes}/${b.crashes}; ` +
        `RSS A ${a.rss.map((x) => x.toFixed(0)).join('-')} B ${b.rss.map((x) => x.toFixed(0)).join('-')} MB; fds A ${a.fds.join('-')} B ${b.fds.join('-')}; load ${load.min}-${load.max}`,
    );
  }
  stopping = true;
  for (const t of timers) clearInterval(t);
  nft.setMode('ok');
  await new Promise((r) => setTimeout(r, 1500)); // the last probes finish
  for (const k of [a, b]) {
    k.child.kill('SIGTERM');
    await new Promise((r) => (k.child.exitCode !== null ? r(null) : k.child.once('exit', r)));
  }
  await apiChurn.stop();
  tcp.close();
  udp.close();
  rmSync(dir, { recursive: true, force: true });
  const top = (m: Map<string, number>) => Object.fromEntries([...m].sort((x, y) => y[1] - x[1]).slice(0, 12));
  const failuresAt = (s: typeof probes.a) => s.failures.slice(0, 40).map((f) => `${(f.atMs / 1000).toFixed(1)}s ${f.reason} ${f.ms}ms`);
  console.log(
    JSON.stringify(
      {
        minutes: MINUTES,
        loadAverage: [load.min, load.max],
        A: {
          crashes: a.crashes,
          probesOk: probes.a.ok,
          probesFailed: probes.a.failed,
          failedWhileDirectProbeSlow: duringStalls(probes.a, probes.direct),
          byReason: probes.a.byReason,
          slowestOkMs: Math.round(probes.a.maxMs),
          rssMB: a.rss.map(Math.round),
          fds: a.fds,
          loggedWarnOrError: top(a.errors),
          firstFailures: failuresAt(probes.a),
        },
        B: {
          crashes: b.crashes,
          probesOk: probes.b.ok,
          probesFailed: probes.b.failed,
          failedWhileDirectProbeSlow: duringStalls(probes.b, probes.direct),
          byReason: probes.b.byReason,
          slowestOkMs: Math.round(probes.b.maxMs),
          rssMB: b.rss.map(Math.round),
          fds: b.fds,
          loggedWarnOrError: top(b.errors),
          firstFailures: failuresAt(probes.b),
        },
        direct: {
          probesOk: probes.direct.ok,
          probesFailed: probes.direct.failed,
          slowOver500ms: probes.direct.slowAt.length,
          byReason: probes.direct.byReason,
          slowestOkMs: Math.round(probes.direct.maxMs),
          firstFailures: failuresAt(probes.direct),
        },
        churn: {
          udpDatagrams: udpSent,
          folderEdits: folder.edits,
          apiServiceEdits: apiChurn.serviceEdits,
          forcedRelists: apiChurn.relists,
          garbageListAnswers: apiChurn.garbageLists,
          nftFailWindows: apiChurn.nftFailures,
          nftHangs: apiChurn.nftHangs,
        },
      },
      null,
      1,
    ),
  );
}

if (process.env.KPROXY_SOAK_NETNS) await main();
else await outer();
