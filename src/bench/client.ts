// The bench's client, run inside the bench's client namespace (it checks first). Prints one
// JSON object on stdout.
//   connect N IP:PORT...   N new TCP connections to each target, interleaved (after 20
//                          warm-ups each): the connect() handshake times in µs, by target
//   rr N IP:PORT...        N 64-byte requests and their echo on one kept-alive connection to
//                          each target, interleaved in blocks of 100: round-trip times in µs
//   conns N IP:PORT        N connections one after the other (connect, 1 byte, its echo,
//                          close): this process's CPU time (µs) and the wall time (ms)
import { connect, type Socket } from 'node:net';
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();

const us = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1000;

function split(target: string): [string, number] {
  const i = target.lastIndexOf(':');
  return [target.slice(0, i), Number(target.slice(i + 1))];
}

function connectTime(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const s = connect({ host, port });
    s.once('connect', () => {
      const t = us(t0);
      s.destroy();
      resolve(t);
    });
    s.once('error', reject);
  });
}

async function connectLatency(n: number, targets: string[]): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t, []]));
  const hp = targets.map(split);
  for (let i = 0; i < 20; i++) for (const [host, port] of hp) await connectTime(host, port);
  for (let i = 0; i < n; i++) for (let k = 0; k < hp.length; k++) out[targets[k]].push(await connectTime(...hp[k]));
  return out;
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** `count` round trips of a 64-byte message on an open connection: µs each. */
function roundTrips(s: Socket, count: number): Promise<number[]> {
  const msg = Buffer.alloc(64, 0x61);
  const out: number[] = [];
  let got = 0;
  let t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      got += d.length;
      if (got < msg.length) return;
      got = 0;
      out.push(us(t0));
      if (out.length >= count) {
        s.off('data', onData);
        s.off('error', reject);
        return resolve(out);
      }
      t0 = process.hrtime.bigint();
      s.write(msg);
    };
    s.on('data', onData);
    s.once('error', reject);
    s.write(msg);
  });
}

async function requestLatency(n: number, targets: string[]): Promise<Record<string, number[]>> {
  const socks = await Promise.all(targets.map((t) => open(...split(t))));
  for (const s of socks) await roundTrips(s, 200); // warm-up
  const out: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t, []]));
  for (let done = 0; done < n; done += 100) {
    for (let k = 0; k < targets.length; k++) out[targets[k]].push(...(await roundTrips(socks[k], Math.min(100, n - done))));
  }
  for (const s of socks) s.destroy();
  return out;
}

function oneConnection(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true });
    s.once('connect', () => s.write('x'));
    s.once('data', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

async function connections(n: number, target: string): Promise<{ cpuUs: number; wallMs: number; n: number }> {
  const [host, port] = split(target);
  for (let i = 0; i < 20; i++) await oneConnection(host, port);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await oneConnection(host, port);
  const c = process.cpuUsage(c0);
  return { cpuUs: c.user + c.system, wallMs: us(t0) / 1000, n };
}

const [cmd, nText, ...rest] = process.argv.slice(2);
const n = Number(nText);
let result: unknown;
if (cmd === 'connect') result = await connectLatency(n, rest);
else if (cmd === 'rr') result = await requestLatency(n, rest);
else if (cmd === 'conns') result = await connections(n, rest[0]);
else {
  process.stderr.write(`client: unknown command ${cmd}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(result) + '\n');
