// A test Pod: answers with its own name over TCP and UDP.
//   TCP: on connect "<name> <peer ip:port> <local ip:port>\n", then "<name> <line>\n" per line.
//   UDP: each datagram gets "<name> <peer ip:port> <local ip:port>".
// Usage: node podserver.js NAME --tcp 8080,80 --udp 5353 [--udp-addrs IP,IP]
// (--udp-addrs binds one UDP socket per address, so that a reply says which one was reached.)
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();
const [name, ...rest] = process.argv.slice(2);
const opt = (flag: string) => {
  const i = rest.indexOf(flag);
  return i >= 0 ? rest[i + 1].split(',').filter(Boolean).map(Number) : [];
};
const hostPort = (ip: string | undefined, port: number | undefined) => (ip?.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

for (const port of opt('--tcp')) {
  createServer((sock) => {
    sock.on('error', () => {});
    sock.write(`${name} ${hostPort(sock.remoteAddress?.replace(/^::ffff:/, ''), sock.remotePort)} ${hostPort(sock.localAddress?.replace(/^::ffff:/, ''), sock.localPort)}\n`);
    let buf = '';
    sock.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        sock.write(`${name} ${buf.slice(0, i)}\n`);
        buf = buf.slice(i + 1);
      }
    });
  }).listen(port, '::');
}
const udpAddrs = (() => {
  const i = rest.indexOf('--udp-addrs');
  return i >= 0 ? rest[i + 1].split(',').filter(Boolean) : [];
})();
for (const port of opt('--udp')) {
  for (const addr of udpAddrs) {
    const s = createSocket(addr.includes(':') ? 'udp6' : 'udp4');
    s.on('error', () => {});
    s.on('message', (_msg, rinfo) => s.send(`${name} ${hostPort(rinfo.address, rinfo.port)} ${hostPort(addr, port)}`, rinfo.port, rinfo.address));
    s.bind(port, addr);
  }
  if (udpAddrs.length > 0) continue;
  for (const type of ['udp4', 'udp6'] as const) {
    const s = createSocket({ type, ipv6Only: type === 'udp6' });
    s.on('error', () => {});
    s.on('message', (_msg, rinfo) => {
      const a = s.address();
      s.send(`${name} ${hostPort(rinfo.address, rinfo.port)} ${hostPort(a.address, a.port)}`, rinfo.port, rinfo.address);
    });
    s.bind(port, type === 'udp4' ? '0.0.0.0' : '::');
  }
}
process.stdout.write('ready\n');
