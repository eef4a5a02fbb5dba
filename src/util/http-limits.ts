// Limits for kproxy's own HTTP servers (/healthz, /metrics, health-check node ports): each
// connection costs a descriptor, so a crowd of unfinished requests must not be able to hold
// them. Headers must arrive within 10 s and a request within 30 s, an idle keep-alive
// connection is closed after 5 s, and beyond maxConnections new connections are closed at once.
import type { Server } from 'node:http';
import { noteFdExhaustion } from './fdlimit.js';

export function limitHttpServer(server: Server, maxConnections = 256): Server {
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.timeout = 30_000;
  server.maxConnections = maxConnections;
  // accept() failing (EMFILE) is an 'error' on the server; without a listener it would end the process.
  server.on('error', (e) => noteFdExhaustion(e, 'http server'));
  return server;
}
