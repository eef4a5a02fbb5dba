// Soak benchmark (not a test): `kproxy run` (userspace mode, manifests folder) under mixed
// churn for SOAK_MINUTES (default 30), while a probe connects to a good Service every 100 ms.
// Churn: Services added and removed, files rewritten with garbage, alias bombs, deep JSON,
// truncated files, symlink loops; Pods whose readiness probes fail; UDP from many source
// ports to a UDP Service. Reports: crashes (kproxy exiting), probe successes/failures, RSS
// and open descriptors of kproxy (min/max over the run).
//   npm run bench:soak            SOAK_MINUTES=3 npm run bench:soak
// Not covered here: API re-lists with garbage and failing nft (the kube source and the
// nftables mode have their own tests: test/sources/kube/hostile.test.ts, test/util/exec.test.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const VIP = '127.96.50.1';
const UDP_VIP = '127.96.50.2';
const BACKEND = '127.0.77.1';

const dir = mkdtempSync(join(tmpdir(), 'kproxy-soak-'));
const m = (f: string, text: string) => {
  mkdirSync(dirname(join(dir, f)), { recursive: true });
  writeFileSync(join(dir, f), text);
};

const svc = (name: string, ip: string, protocol = 'TCP', port = 80) =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: soak}\nspec: {clusterIP: ${ip}, ports: [{name: p, port: ${port}, protocol: ${protocol}}]}\n`;
const slice = (name: string, ip: string, port: number, protocol = 'TCP') =>
  `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: ${name}-1, namespace: soak, labels: {kubernetes.io/service-name: ${name}}}\naddressType: IPv4\nendpoints: [{addresses: [${ip}], conditions: {ready: true}}]\nports: [{name: p, port: ${port}, protocol: ${protocol}}]\n`;

function bomb(): string {
  const l = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: laughs, namespace: soak}', 'data:', '  a0: &a0 "lol"'];
  for (let i = 1; i <= 9; i++)
    l.push(
      `  a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return l.join('\n') + '\n';
}

async function main(): Promise<void> {
  // Backends: TCP echo-ish (answers "ok") and UDP echo.
  const tcp = net.createServer((s) => {
    s.on('error', () => {}); // a client reset is not the benchmark's failure
    s.end('ok\n');
  });
  await new Promise<void>((r) => tcp.listen(8080, BACKEND, () => r()));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, r) => udp.send(msg, r.port, r.address));
  udp.on('error', () => {});
  await new Promise<void>((r) => udp.bind(5353, BACKEND, () => r()));

  m('good.yaml', svc('good', VIP) + '---\n' + slice('good', BACKEND, 8080));
  m('udp.yaml', svc('udp', UDP_VIP, 'UDP', 53) + '---\n' + slice('udp', BACKEND, 5353, 'UDP'));

  let crashes = 0;
  let child: ChildProcess;
  const start = () => {
    child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/kproxy.js'),
        'run',
        '--manifests',
        dir,
        '--proxy-mode',
        'userspace',
        '--healthz-bind-address',
        '127.0.0.1:0',
        '--metrics-bind-address',
        '',
        '--hostname-override',
        'soak-node',
        '--udp-idle-timeout',
        '5s',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', () => {});
    child.on('exit', (code, sig) => {
      if (stopping) return;
      crashes++;
      console.error(`kproxy exited (${code ?? sig}); restarting`);
      start();
    });
  };
  let stopping = false;
  start();
  await new Promise((r) => setTimeout(r, 3000));

  const stats = { ok: 0, fail: 0, rssMin: Infinity, rssMax: 0, fdMin: Infinity, fdMax: 0, udpSent: 0, edits: 0 };
  const probe = setInterval(() => {
    const s = net.connect(80, VIP);
    let got = '';
    const t = setTimeout(() => s.destroy(new Error('timeout')), 1000);
    s.on('data', (d) => (got += d));
    s.on('close', () => {
      clearTimeout(t);
      if (got.startsWith('ok')) stats.ok++;
      else stats.fail++;
    });
    s.on('error', () => {});
  }, 100);
  const sample = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      const fds = readdirSync(`/proc/${child.pid}/fd`).length;
      stats.rssMin = Math.min(stats.rssMin, rss);
      stats.rssMax = Math.max(stats.rssMax, rss);
      stats.fdMin = Math.min(stats.fdMin, fds);
      stats.fdMax = Math.max(stats.fdMax, fds);
    } catch {
      // between restarts
    }
  }, 1000);
  // UDP from many source ports: 200 new sockets a second, each sending one datagram.
  const udpChurn = setInterval(() => {
    for (let i = 0; i < 20; i++) {
      const c = dgram.createSocket('udp4');
      c.bind(0, `127.0.${100 + Math.floor(Math.random() * 100)}.${1 + Math.floor(Math.random() * 250)}`, () => {
        c.send('x', 53, UDP_VIP, () => setTimeout(() => c.close(), 200));
        stats.udpSent++;
      });
      c.on('error', () => c.close());
    }
  }, 100);
  // Folder churn: one edit every 250 ms from a rotating list of good and bad ones.
  let n = 0;
  const edits: (() => void)[] = [
    () => m(`churn/s${n % 50}.yaml`, svc(`s${n % 50}`, `127.96.51.${(n % 50) + 1}`)),
    () => rmSync(join(dir, `churn/s${(n + 25) % 50}.yaml`), { force: true }),
    () => m('bad/garbage.yaml', `kind: Service\nmetadata: {name: [${n}\n`),
    () => m('bad/bomb.yaml', bomb()),
    () => m('bad/deep.json', `{"kind":"Service","metadata":{"name":"deep"},"spec":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`),
    () => {
      m('bad/trunc.yaml', svc('trunc', '127.96.52.1'));
      truncateSync(join(dir, 'bad/trunc.yaml'), 0);
    },
    () => {
      rmSync(join(dir, 'bad/loop'), { force: true });
      symlinkSync('.', join(dir, 'bad/loop'));
    },
    () =>
      m(
        `pods/p${n % 10}.yaml`,
        `apiVersion: v1\nkind: Pod\nmetadata: {name: p${n % 10}, namespace: soak, labels: {app: flaky}}\nspec:\n  nodeName: soak-node\n  containers: [{name: c, ports: [{containerPort: 9}], readinessProbe: {tcpSocket: {port: 9}, periodSeconds: 1}}]\nstatus: {podIP: 127.0.78.${(n % 10) + 1}}\n`,
      ),
    () => m('flaky.yaml', `apiVersion: v1\nkind: Service\nmetadata: {name: flaky, namespace: soak}\nspec: {clusterIP: 127.96.53.1, selector: {app: flaky}, ports: [{port: 80, targetPort: 9}]}\n`),
    () => m('bad/badname.yaml', svc('Bad_Name', '127.96.54.1')),
  ];
  const churn = setInterval(() => {
    try {
      edits[n % edits.length]();
      stats.edits++;
    } catch (e) {
      console.error('edit failed', (e as Error).message);
    }
    n++;
  }, 250);

  const t0 = Date.now();
  while (Date.now() - t0 < MINUTES * 60_000) {
    await new Promise((r) => setTimeout(r, 10_000));
    const min = ((Date.now() - t0) / 60_000).toFixed(1);
    console.log(
      `${min} min: probes ok ${stats.ok} failed ${stats.fail}; crashes ${crashes}; RSS ${stats.rssMin.toFixed(0)}-${stats.rssMax.toFixed(0)} MB; fds ${stats.fdMin}-${stats.fdMax}; UDP datagrams ${stats.udpSent}; edits ${stats.edits}`,
    );
  }
  stopping = true;
  for (const t of [probe, sample, udpChurn, churn]) clearInterval(t);
  child!.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  tcp.close();
  udp.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      minutes: MINUTES,
      crashes,
      probesOk: stats.ok,
      probesFailed: stats.fail,
      rssMB: [Math.round(stats.rssMin), Math.round(stats.rssMax)],
      fds: [stats.fdMin, stats.fdMax],
      udpDatagrams: stats.udpSent,
      folderEdits: stats.edits,
    }),
  );
}

await main();
