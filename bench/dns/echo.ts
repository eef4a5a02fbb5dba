// A reference for the benchmark: the cheapest possible Node UDP "DNS server" — it flips the
// QR bit of each query and sends it back, doing no DNS work at all. Its qps is the ceiling
// any server on Node's dgram can reach on this machine, whatever it does per query.
import dgram from 'node:dgram';

const [host, port] = [process.argv[2] ?? '127.0.0.4', Number(process.argv[3] ?? 0)];
const sock = dgram.createSocket({ type: 'udp4', lookup: ((a: string, f: number, cb: (e: null, a: string, f: number) => void) => cb(null, a, f)) as never });
sock.on('message', (m, r) => {
  m[2] |= 0x80;
  sock.send(m, r.port, r.address);
});
sock.bind(port, host, () => process.send!({ kind: 'ready', port: sock.address().port }));
process.on('message', () => process.exit(0));
