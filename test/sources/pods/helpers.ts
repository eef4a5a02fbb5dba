// Real backends on 127.0.0.1 for probe tests: an HTTP server whose answer can be changed
// (or made to hang), and a poll helper.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Backend {
  server: Server;
  port: number;
  /** Status code answered now; 0 = accept the request and never answer. */
  status: number;
  /** Answers given, by status code. */
  answered: Map<number, number>;
  lastHeaders: IncomingHttpHeaders | null;
  lastPath: string;
  close(): Promise<void>;
}

export async function startBackend(host = '127.0.0.1'): Promise<Backend> {
  const b = { status: 200, answered: new Map<number, number>(), lastHeaders: null, lastPath: '' } as unknown as Backend;
  const server = createServer((req, res) => {
    b.lastHeaders = req.headers;
    b.lastPath = req.url ?? '';
    if (b.status === 0) return; // hang
    b.answered.set(b.status, (b.answered.get(b.status) ?? 0) + 1);
    res.writeHead(b.status).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  b.server = server;
  b.port = (server.address() as AddressInfo).port;
  b.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return b;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return performance.now() - t0;
}
