// `npm run bench:dns-fuzz`: the long fuzz run. Throws DNS_FUZZ_PACKETS (default 1,000,000)
// random and mutated packets at a DNS server fed from test/dns/fixtures: each one through
// answer() in-process (every response must decode as a DNS message carrying the query's ID),
// and over real sockets — every packet over UDP, every tenth framed over TCP on a pool of
// connections (some with lying length prefixes). Afterwards the server must still answer.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { framed, query, startServer, tcpExchange, udpExchange } from '../../test/dns/helpers.js';
import { packetArbitrary } from '../../test/dns/packets.js';

const TOTAL = Number(process.env.DNS_FUZZ_PACKETS ?? 1_000_000);
const CHUNK = 5000;

const s = await startServer();
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
const stats = { packets: 0, answered: 0, dropped: 0, formerr: 0, thrown: 0, invalid: 0, udpAnswers: 0, tcpBytes: 0 };

const udp = dgram.createSocket('udp4');
udp.on('message', () => stats.udpAnswers++);
await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
udp.setRecvBufferSize(8 << 20);
const conns: net.Socket[] = [];
function tcpConn(): net.Socket {
  const c = net.connect(s.port, '127.0.0.1');
  c.on('data', (d) => (stats.tcpBytes += d.length));
  c.on('error', () => {});
  return c;
}
for (let i = 0; i < 8; i++) conns.push(tcpConn());

const arb = packetArbitrary();
for (let chunk = 0; stats.packets < TOTAL; chunk++) {
  const packets = fc.sample(arb, { numRuns: Math.min(CHUNK, TOTAL - stats.packets), seed: 1000 + chunk });
  for (const p of packets) {
    stats.packets++;
    try {
      const r = s.server.answer(p, false);
      if (r === null) stats.dropped++;
      else if (r instanceof Promise) stats.invalid++;
      else {
        stats.answered++;
        if ((r[3] & 15) === 1) stats.formerr++;
        const d = dnsPacket.decode(r);
        if (d.id !== p.readUInt16BE(0) || d.type !== 'response') stats.invalid++;
      }
    } catch (e) {
      // Either answer() threw (a server bug) or its response does not decode (also a bug).
      stats.thrown++;
      if (stats.thrown <= 5) console.error('failure on', p.toString('hex'), (e as Error).message);
    }
    udp.send(p, s.port, '127.0.0.1');
    if (stats.packets % 10 === 0) {
      const c = conns[stats.packets % conns.length];
      const f = framed(p);
      if (stats.packets % 1000 === 0) f.writeUInt16BE(Math.min(65535, f.readUInt16BE(0) + 3), 0); // a lying length
      if (c.destroyed) conns[stats.packets % conns.length] = tcpConn();
      else c.write(f);
    }
    // Let the server drain its socket: libuv reads at most 32 datagrams per loop turn.
    if (stats.packets % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  if (chunk % 20 === 0) console.log(`${stats.packets} packets, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
await new Promise((r) => setTimeout(r, 500));
for (const c of conns) c.destroy();
udp.close();

const u = await udpExchange(s.port, query('web.demo.svc.cluster.local', 'A'));
const [t] = await tcpExchange(s.port, [framed(query('web.demo.svc.cluster.local', 'A'))], 1);
const alive = u !== null && dnsPacket.decode(u).answers?.length === 1 && t !== undefined && dnsPacket.decode(t).answers?.length === 1;
console.log('server counters', JSON.stringify(s.server.counters));
await s.close();

console.log(
  JSON.stringify(
    {
      ...stats,
      seconds: Math.round((performance.now() - t0) / 1000),
      rssGrowthMB: Math.round((process.memoryUsage().rss - rss0) / 2 ** 20),
      answersAfterwards: alive,
    },
    null,
    2,
  ),
);
if (stats.thrown > 0 || stats.invalid > 0 || !alive) {
  console.error('FUZZ FAILED');
  process.exit(1);
}
console.log('fuzz run passed: no exception, every response well-formed, still answering over UDP and TCP');
