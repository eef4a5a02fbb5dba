// The test client, run inside one of the harness's namespaces (it checks first):
//   tcp IP PORT COUNT TIMEOUT_MS            COUNT new connections; JSON array of results
//   udp IP PORT COUNT TIMEOUT_MS            COUNT datagrams, each from a new socket
//   udp-flow IP PORT SPORT INTERVAL_MS      one flow from a fixed source port; a JSON line per
//                                           reply or timeout, until stdin closes
//   tcp-hold IP PORT INTERVAL_MS            one connection, a line every interval; a JSON line
//                                           per reply or error, until stdin closes
//   batch                                   probes from stdin (JSON array of {proto, src, dst,
//                                           port, count, timeoutMs}); a JSON array of result arrays
//   connect-latency IP_A IP_B PORT N        N TCP connect() each to A and B, alternating (after
//                                           20 warm-ups); p50 and p90 of the handshake in µs
//   serve                                   resident: one JSON request per stdin line,
//                                           {id, probes (as batch), parallel}; one JSON line
//                                           {id, results} per request, until stdin closes. Saves
//                                           a node start per probe, which under load costs seconds.
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();

export interface Result {
  ok: boolean;
  reply?: string;
  error?: string;
  ms: number;
}

function tcpOnce(ip: string, port: number, timeoutMs: number, localAddress?: string): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = connect({ host: ip, port, localAddress });
    let buf = '';
    const done = (r: Omit<Result, 'ms'>) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...r, ms: Math.round(performance.now() - t0) });
    };
    const timer = setTimeout(() => done({ ok: false, error: 'TIMEOUT' }), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) done({ ok: true, reply: buf.slice(0, i) });
    });
    sock.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    sock.on('close', () => done({ ok: false, error: 'CLOSED' }));
  });
}

function udpOnce(ip: string, port: number, timeoutMs: number, localAddress?: string): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = createSocket(isIPv6(ip) ? 'udp6' : 'udp4');
    if (localAddress) s.bind({ address: localAddress, port: 0 });
    const done = (r: Omit<Result, 'ms'>) => {
      clearTimeout(timer);
      s.close();
      resolve({ ...r, ms: Math.round(performance.now() - t0) });
    };
    const timer = setTimeout(() => done({ ok: false, error: 'TIMEOUT' }), timeoutMs);
    s.on('message', (m) => done({ ok: true, reply: m.toString() }));
    s.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    s.send('hi', port, ip);
  });
}

function connectTime(ip: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const sock = connect({ host: ip, port });
    sock.on('connect', () => {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      sock.destroy();
      resolve(us);
    });
    sock.on('error', reject);
  });
}

async function latency(a: string, b: string, port: number, n: number) {
  for (let i = 0; i < 20; i++) await connectTime(i % 2 ? a : b, port);
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < n; i++) {
    ta.push(await connectTime(a, port));
    tb.push(await connectTime(b, port));
  }
  const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.floor(p * (xs.length - 1))];
  return { a: { p50: q(ta, 0.5), p90: q(ta, 0.9) }, b: { p50: q(tb, 0.5), p90: q(tb, 0.9) }, n };
}

const line = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');

type Probe = { proto: 'tcp' | 'udp'; src?: string; dst: string; port: number; count: number; timeoutMs: number };

/** One probe: COUNT connections (datagrams) one after the other. */
async function runProbe(p: Probe): Promise<Result[]> {
  const rs: Result[] = [];
  for (let i = 0; i < p.count; i++) rs.push(await (p.proto === 'tcp' ? tcpOnce : udpOnce)(p.dst, p.port, p.timeoutMs, p.src));
  return rs;
}

async function main() {
  const [mode, ip, portText, a, b] = process.argv.slice(2);
  const port = Number(portText);
  if (mode === 'tcp' || mode === 'udp') {
    const out: Result[] = [];
    for (let i = 0; i < Number(a); i++) out.push(await (mode === 'tcp' ? tcpOnce : udpOnce)(ip, port, Number(b)));
    line(out);
    return;
  }
  if (mode === 'batch') {
    const probes = JSON.parse(
      await new Promise<string>((r) => {
        let t = '';
        process.stdin
          .setEncoding('utf8')
          .on('data', (d) => (t += d))
          .on('end', () => r(t));
      }),
    ) as { proto: 'tcp' | 'udp'; src?: string; dst: string; port: number; count: number; timeoutMs: number }[];
    const out: Result[][] = [];
    for (const p of probes as Probe[]) out.push(await runProbe(p));
    line(out);
    return;
  }
  if (mode === 'serve') {
    // Requests are served as they come (several may be in flight); within one request the
    // probes run one after the other, or all at once when `parallel` is set.
    let buf = '';
    const pending = new Set<Promise<void>>();
    process.stdin.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const req = JSON.parse(buf.slice(0, i)) as { id: number; probes: Probe[]; parallel?: boolean };
        buf = buf.slice(i + 1);
        const work = (async () => {
          const results = req.parallel
            ? await Promise.all(req.probes.map(runProbe))
            : await (async () => {
                const out: Result[][] = [];
                for (const p of req.probes) out.push(await runProbe(p));
                return out;
              })();
          line({ id: req.id, results });
        })();
        pending.add(work);
        void work.finally(() => pending.delete(work));
      }
    });
    await new Promise<void>((r) => process.stdin.on('end', () => r()));
    await Promise.all(pending);
    return;
  }
  if (mode === 'connect-latency') {
    line(await latency(ip, portText, Number(a), Number(b)));
    return;
  }
  let stop = false;
  process.stdin.on('end', () => (stop = true)).resume();
  if (mode === 'udp-flow') {
    const s = createSocket(isIPv6(ip) ? 'udp6' : 'udp4');
    s.bind(Number(a));
    let waiting: ((r: string | null) => void) | null = null;
    s.on('message', (m) => waiting?.(m.toString()));
    while (!stop) {
      const t0 = Date.now();
      const reply = await new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), Number(b));
        waiting = (r) => {
          clearTimeout(timer);
          resolve(r);
        };
        s.send('hi', port, ip);
      });
      waiting = null;
      line(reply === null ? { ok: false, error: 'TIMEOUT' } : { ok: true, reply });
      await new Promise((r) => setTimeout(r, Math.max(0, Number(b) - (Date.now() - t0))));
    }
    s.close();
    return;
  }
  if (mode === 'tcp-hold') {
    const sock = connect({ host: ip, port });
    sock.setEncoding('utf8');
    let buf = '';
    let n = 0;
    sock.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        line({ ok: true, reply: buf.slice(0, i) });
        buf = buf.slice(i + 1);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => line({ ok: false, error: e.code ?? e.message }));
    sock.on('close', () => {
      line({ ok: false, error: 'CLOSED' });
      process.exit(0);
    });
    const timer = setInterval(() => sock.write(`ping ${++n}\n`), Number(a));
    await new Promise<void>((r) => process.stdin.on('end', () => r()));
    clearInterval(timer);
    sock.removeAllListeners('close');
    sock.destroy();
    return;
  }
  process.stderr.write(`client: unknown mode ${mode}\n`);
  process.exit(2);
}

await main();
