// The benchmark's backend, in its own process: an echo server and a bulk source (writes
// a 1 MiB buffer over and over, with backpressure, until the client goes).
import net from 'node:net';

const [ip, echoPort, bulkPort] = process.argv.slice(2);
const chunk = Buffer.alloc(1 << 20, 0x5a);

const echo = net.createServer({ noDelay: true }, (s) => {
  s.on('error', () => {});
  s.pipe(s);
});
const bulk = net.createServer((s) => {
  s.on('error', () => {});
  const pump = () => {
    while (!s.destroyed && s.write(chunk));
  };
  s.on('drain', pump);
  pump();
});
echo.listen({ host: ip, port: Number(echoPort), backlog: 4096 }, () => {
  bulk.listen({ host: ip, port: Number(bulkPort), backlog: 4096 }, () => process.stdout.write('ready\n'));
});
