// A client for failover measurements, run inside client2's namespace (it checks first):
//   IP PORT INTERVAL_MS TIMEOUT_MS
// opens a new TCP connection every INTERVAL_MS (each waiting at most TIMEOUT_MS for the
// pod's reply line) and prints one JSON line per attempt: {"t": ms since epoch at the
// attempt's end, "ok", "reply"}; stops when stdin closes.
import { connect } from 'node:net';
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();

const [ip, port, interval, timeout] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
let stop = false;
process.stdin.on('end', () => (stop = true)).resume();

function attempt(): Promise<{ ok: boolean; reply?: string }> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    let buf = '';
    const done = (r: { ok: boolean; reply?: string }) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false }), timeout);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) done({ ok: true, reply: buf.slice(0, buf.indexOf('\n')) });
    });
    s.on('error', () => done({ ok: false }));
  });
}

while (!stop) {
  const start = Date.now();
  const r = await attempt();
  process.stdout.write(JSON.stringify({ start, t: Date.now(), ...r }) + '\n');
  await new Promise((res) => setTimeout(res, interval));
}
