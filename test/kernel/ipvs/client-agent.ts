// A test client that lives in one of the lab's network namespaces for the whole lab, so that
// a request costs a TCP connection, not three process starts (slow in the guest). Commands
// arrive as JSON lines on stdin, answers leave as JSON lines on stdout:
//   {"id":1,"op":"request","host":"10.96.0.10","port":80}  → {"id":1,"line":"pod1 …"} | {"id":1,"error":"…"}
//   {"id":2,"op":"open",…,"conn":"c1"} → first line; {"op":"echo","conn":"c1","text":"x"} → reply; {"op":"close","conn":"c1"}
//   {"op":"reset","conn":"c1"} closes it with a RST instead of a FIN (no TIME_WAIT to wait out)
//   {"id":3,"op":"udp","host":…,"port":…} → one datagram from a new socket: {"line": the reply}
// "request" and "udp" take an optional "timeoutMs" (default 20 s).
// It refuses to run outside the lab's namespaces (netns-guard).
import { createSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { assertInTestNetns } from '../netns-guard.js';

assertInTestNetns();

interface Command {
  id: number;
  op: 'request' | 'open' | 'echo' | 'close' | 'reset' | 'udp';
  timeoutMs?: number;
  host?: string;
  port?: number;
  conn?: string;
  text?: string;
}

const open = new Map<string, { sock: Socket; lines: string[]; waiters: (() => void)[] }>();
const reply = (id: number, body: Record<string, unknown>) => process.stdout.write(JSON.stringify({ id, ...body }) + '\n');

function connect(host: string, port: number, timeoutMs = 20_000): Promise<{ sock: Socket; lines: string[]; waiters: (() => void)[] }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host, port, timeout: timeoutMs });
    const state = { sock, lines: [] as string[], waiters: [] as (() => void)[] };
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        state.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      state.waiters.splice(0).forEach((w) => w());
    });
    sock.once('connect', () => resolve(state));
    sock.once('timeout', () => sock.destroy(new Error('timed out')));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      reject(new Error(`${e.code ?? ''} ${e.message}`.trim()));
      state.waiters.splice(0).forEach((w) => w());
    });
    sock.once('close', () => state.waiters.splice(0).forEach((w) => w()));
  });
}

async function nextLine(state: { sock: Socket; lines: string[]; waiters: (() => void)[] }, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  while (state.lines.length === 0) {
    if (Date.now() > end || state.sock.destroyed) throw new Error('no answer');
    await new Promise<void>((r) => {
      state.waiters.push(r);
      setTimeout(r, 200);
    });
  }
  return state.lines.shift()!;
}

function datagram(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('no answer'));
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString().trim());
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      s.close();
      reject(e);
    });
    s.send('x', port, host);
  });
}

async function handle(c: Command): Promise<void> {
  try {
    switch (c.op) {
      case 'request': {
        const s = await connect(c.host!, c.port!, c.timeoutMs);
        try {
          reply(c.id, { line: await nextLine(s) });
        } finally {
          s.sock.end();
        }
        return;
      }
      case 'open': {
        const s = await connect(c.host!, c.port!);
        open.set(c.conn!, s);
        reply(c.id, { line: await nextLine(s) });
        return;
      }
      case 'echo': {
        const s = open.get(c.conn!)!;
        s.sock.write(c.text + '\n');
        reply(c.id, { line: await nextLine(s) });
        return;
      }
      case 'close':
      case 'reset': {
        const sock = open.get(c.conn!)?.sock;
        if (c.op === 'reset') sock?.resetAndDestroy();
        else sock?.end();
        open.delete(c.conn!);
        reply(c.id, {});
        return;
      }
      case 'udp':
        reply(c.id, { line: await datagram(c.host!, c.port!, c.timeoutMs ?? 20_000) });
        return;
    }
  } catch (e) {
    reply(c.id, { error: (e as Error).message });
  }
}

createInterface({ input: process.stdin }).on('line', (l) => void handle(JSON.parse(l) as Command));
process.stdin.on('end', () => process.exit(0));
process.stdout.write(JSON.stringify({ id: 0, ready: true }) + '\n');
