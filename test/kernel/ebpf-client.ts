// The ebpf kernel tests' client, run inside one of the harness's namespaces (it checks
// first) and, for socket-level load balancing, inside the test's cgroup. It reports what the
// application sees: the peer address of the socket (getpeername) or of each datagram.
//   tcp IP PORT COUNT TIMEOUT_MS                 COUNT connections: [{ok, pod, remote, error, ms}]
//   udp IP PORT COUNT TIMEOUT_MS connected|unconnected   one socket per datagram
//   tcp-loop IP PORT INTERVAL_MS                 a connection every interval; a JSON line each, until stdin closes
//   latency N IP:PORT...                         N rounds of one TCP connect() to each target in turn (after 20
//                                                warm-ups): {target: [µs per handshake]}
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();

interface Result {
  ok: boolean;
  pod?: string;
  remote?: string;
  error?: string;
  ms: number;
}

const hostPort = (ip: string | undefined, port: number | undefined) => (ip && ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

function tcp(ip: string, port: number, timeoutMs: number): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = connect({ host: ip, port });
    let buf = '';
    let remote: string | undefined;
    const done = (r: Omit<Result, 'ms'>) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...r, ms: Math.round(performance.now() - t0) });
    };
    const timer = setTimeout(() => done({ ok: false, error: 'TIMEOUT' }), timeoutMs);
    sock.on('connect', () => (remote = hostPort(sock.remoteAddress, sock.remotePort)));
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) done({ ok: true, pod: buf.slice(0, i).split(' ')[0], remote });
    });
    sock.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    sock.on('close', () => done({ ok: false, error: 'CLOSED' }));
  });
}

function udp(ip: string, port: number, timeoutMs: number, connected: boolean): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = createSocket(isIPv6(ip) ? 'udp6' : 'udp4');
    const done = (r: Omit<Result, 'ms'>) => {
      clearTimeout(timer);
      s.close();
      resolve({ ...r, ms: Math.round(performance.now() - t0) });
    };
    const timer = setTimeout(() => done({ ok: false, error: 'TIMEOUT' }), timeoutMs);
    s.on('message', (m, rinfo) => {
      // Connected: what getpeername() says; unconnected: the datagram's source (recvmsg).
      const remote = connected ? hostPort(s.remoteAddress().address, s.remoteAddress().port) : hostPort(rinfo.address, rinfo.port);
      done({ ok: true, pod: m.toString().split(' ')[0], remote });
    });
    s.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    if (connected) s.connect(port, ip, () => s.send('hi'));
    else s.send('hi', port, ip);
  });
}

async function main(): Promise<void> {
  const [mode, ip, portText, a, b, c] = process.argv.slice(2);
  const port = Number(portText);
  if (mode === 'tcp' || mode === 'udp') {
    const out: Result[] = [];
    for (let i = 0; i < Number(a); i++) out.push(mode === 'tcp' ? await tcp(ip, port, Number(b)) : await udp(ip, port, Number(b), c === 'connected'));
    process.stdout.write(JSON.stringify(out));
    return;
  }
  if (mode === 'tcp-loop') {
    let stop = false;
    process.stdin.on('end', () => (stop = true)).resume();
    while (!stop) {
      process.stdout.write(JSON.stringify(await tcp(ip, port, 2000)) + '\n');
      await new Promise((r) => setTimeout(r, Number(a)));
    }
    return;
  }
  if (mode === 'latency') {
    const targets = process.argv.slice(4);
    const split = (t: string) => {
      const i = t.lastIndexOf(':');
      return [t.slice(0, i).replace(/^\[|\]$/g, ''), Number(t.slice(i + 1))] as const;
    };
    const once = (t: string) =>
      new Promise<number>((resolve, reject) => {
        const [h, p] = split(t);
        const t0 = process.hrtime.bigint();
        const s = connect({ host: h, port: p }, () => {
          const us = Number(process.hrtime.bigint() - t0) / 1000;
          s.destroy();
          resolve(us);
        });
        s.on('error', reject);
      });
    const out: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t, []]));
    for (let i = 0; i < 20; i++) for (const t of targets) await once(t);
    for (let i = 0; i < Number(ip); i++) for (const t of targets) out[t].push(await once(t));
    process.stdout.write(JSON.stringify(out));
    return;
  }
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
