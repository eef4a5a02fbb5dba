// Backends for bench:standalone, in their own process so their CPU is not counted as
// kproxy's: N minimal HTTP/1.1 servers on 127.0.0.1 that answer any request with
// "200 OK" and close (what a health endpoint does, without the cost of a full HTTP stack,
// so that the backends keep up with 2,000 probes a second on a busy machine).
// Prints the ports as one JSON line, then serves until killed.
import { createServer, type AddressInfo } from 'node:net';

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
const n = Number(process.argv[2] ?? 20);
const ports: number[] = [];
for (let i = 0; i < n; i++) {
  const s = createServer((socket) => {
    socket.on('error', () => {});
    let seen = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      seen += d;
      if (seen.includes('\r\n\r\n')) socket.end(RESPONSE);
    });
  });
  await new Promise<void>((r) => s.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  ports.push((s.address() as AddressInfo).port);
}
process.stdout.write(JSON.stringify({ ports }) + '\n');
