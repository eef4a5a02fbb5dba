// A bench Pod: a TCP echo server. Run inside a Pod namespace of the bench (it checks first).
// Usage: node pod-server.js PORT   (prints "ready" once it listens)
import { createServer } from 'node:net';
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();
const port = Number(process.argv[2]);
createServer({ noDelay: true }, (sock) => {
  sock.on('error', () => {});
  sock.pipe(sock);
}).listen({ port, host: '0.0.0.0', backlog: 4096 }, () => process.stdout.write('ready\n'));
