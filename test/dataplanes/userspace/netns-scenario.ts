// Runs inside a network namespace made by netns.test.ts (as root): backends, `kproxy run` in
// userspace mode with non-loopback service IPs, and clients. Prints one JSON report.
// Refuses to run anywhere but in the namespace named on its command line.
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness, service, slice, sleep, tcpBackend, udpBackend, whoAnswers } from './helpers.js';

const [nsName, kproxyBin] = process.argv.slice(2);
if (statSync('/proc/self/ns/net').ino !== statSync(`/run/netns/${nsName}`).ino) {
  process.stderr.write(`netns-scenario: not inside network namespace ${nsName}; refusing to run\n`);
  process.exit(3);
}

const report: Record<string, unknown> = {};
const addrs = (): string[] => {
  try {
    // service addresses kproxy added, on kproxy0 or (no dummy driver) on lo
    const j = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' }));
    return j
      .flatMap((l: { addr_info: { local: string }[] }) => l.addr_info.map((a) => a.local))
      .filter((a: string) => a.startsWith('10.96.') || a.startsWith('192.0.2.') || a.startsWith('fd00:96:'))
      .sort();
  } catch {
    return [];
  }
};

async function waitFor(fn: () => Promise<unknown>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await fn();
      return;
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(100);
    }
  }
}

function udpAsk(ip: string, port: number, msg: string): Promise<{ text: string; from: string }> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => (s.close(), reject(new Error('no UDP reply'))), 1000);
    s.on('message', (m, r) => {
      clearTimeout(t);
      s.close();
      resolve({ text: String(m), from: r.address });
    });
    s.send(msg, port, ip);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'kproxy-netns-'));
const servers: { close(): unknown }[] = [];
try {
  servers.push(await tcpBackend('a', '127.0.0.2', 8080), await tcpBackend('b', '127.0.0.3', 8080));
  servers.push(await udpBackend('u', '127.0.0.4', 5353));
  const six = net.createServer((s) => s.end('six\n'));
  await new Promise<void>((r) => six.listen(8086, '::1', () => r()));
  servers.push(six);
  const docs = [
    service({ name: 'web', clusterIP: '10.96.0.10', port: 80, externalIPs: ['192.0.2.10'] }),
    slice(
      'web',
      [
        { ip: '127.0.0.2', port: 8080 },
        { ip: '127.0.0.3', port: 8080 },
      ],
      { nodeName: 'n1' },
    ),
    service({ name: 'dns', clusterIP: '10.96.0.53', port: 53, protocol: 'UDP' }),
    slice('dns', [{ ip: '127.0.0.4', port: 5353 }], { protocol: 'UDP', nodeName: 'n1' }),
    {
      ...(service({ name: 'v6', clusterIP: 'fd00:96::10', port: 80 }) as { spec: object }),
      spec: { ...(service({ name: 'v6', clusterIP: 'fd00:96::10', port: 80 }) as { spec: object }).spec, ipFamilies: ['IPv6'] },
    },
    { ...(slice('v6', [{ ip: '::1', port: 8086 }], { nodeName: 'n1' }) as object), addressType: 'IPv6' },
  ];
  writeFileSync(join(dir, 'svc.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
  const kp = spawn(process.execPath, [kproxyBin, 'run', '--manifests', dir, '--proxy-mode', 'userspace', '--hostname-override', 'n1', '--metrics-bind-address', '', '--healthz-bind-address', ''], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  kp.stderr!.on('data', (d) => (stderr += d));
  try {
    await waitFor(() => whoAnswers('10.96.0.10', 80), 10_000);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(await whoAnswers('10.96.0.10', 80));
    report.clusterIPBackends = [...seen].sort();
    report.externalIP = await whoAnswers('192.0.2.10', 80);
    report.udp = await udpAsk('10.96.0.53', 53, 'hi');
    report.ipv6 = await whoAnswers('fd00:96::10', 80).catch((e: Error) => `error: ${e.message}`);
    report.addressesWhileRunning = addrs();
  } finally {
    kp.kill('SIGTERM');
    report.exit = await new Promise((r) => kp.once('exit', (code, sig) => r(code ?? sig)));
  }
  report.interfaceAfterStop = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes('kproxy0');
  report.addressesAfterStop = addrs();
  report.kproxyErrors = stderr.split('\n').filter((l) => /"level":(50|60)/.test(l));

  // The dataplane directly: an address goes with its Service.
  const h = new Harness({}, { serviceGraceMs: 0 });
  await h.apply(service({ name: 'tmp', clusterIP: '10.96.1.1', port: 80 }), slice('tmp', [{ ip: '127.0.0.2', port: 8080 }]));
  report.tmpWhileServed = addrs().includes('10.96.1.1');
  report.tmpAnswer = await whoAnswers('10.96.1.1', 80);
  await h.remove('Service', 'tmp');
  // The address goes once its listener has closed, in the next removal batch: wait for that
  // (a fixed 100 ms was too short on a loaded machine), but no longer than 5 s.
  await waitFor(async () => {
    if (addrs().includes('10.96.1.1')) throw new Error('10.96.1.1 is still on the interface');
  }, 5_000).catch(() => undefined);
  report.tmpAfterRemoval = addrs().includes('10.96.1.1');
  await h.close();
} finally {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report) + '\n');
