// First-packet latency for the ipvs benchmark, run inside the guest's client namespace (it
// checks): the time of a new TCP connection's handshake (connect() until established) to each
// target, N times each, interleaved, after 20 warm-ups each. Prints one JSON object:
//   {"10.100.0.0:80": {"p50Us": …, "p99Us": …, "n": N}, …}
// Usage: node latency.js N IP:PORT...
import { connect } from 'node:net';
import { assertInTestNetns } from '../../test/kernel/netns-guard.js';

assertInTestNetns();

function connectTime(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const s = connect({ host, port });
    const timer = setTimeout(() => s.destroy(new Error(`no connection to ${host}:${port} within 5 s`)), 5000);
    s.once('connect', () => {
      clearTimeout(timer);
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      s.destroy();
      resolve(us);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.round(p * (xs.length - 1)))];

const [nText, ...targets] = process.argv.slice(2);
const n = Number(nText);
const split = (t: string): [string, number] => [t.slice(0, t.lastIndexOf(':')), Number(t.slice(t.lastIndexOf(':') + 1))];
const samples: number[][] = targets.map(() => []);
for (let i = 0; i < 20; i++) for (const t of targets) await connectTime(...split(t));
for (let i = 0; i < n; i++) for (const [j, t] of targets.entries()) samples[j].push(await connectTime(...split(t)));
const out: Record<string, { p50Us: number; p99Us: number; n: number }> = {};
for (const [j, t] of targets.entries()) out[t] = { p50Us: Math.round(q(samples[j], 0.5)), p99Us: Math.round(q(samples[j], 0.99)), n };
process.stdout.write(JSON.stringify(out) + '\n');
