// /metrics on metricsBindAddress (Prometheus text format from prom-client). Other pages
// (the /rules page, for one) can be added by the dataplane through `extraRoutes`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../util/net.js';
import type { ProxyMetrics } from './metrics.js';
import { limitHttpServer } from '../util/http-limits.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export async function startMetricsServer(bind: string, metrics: ProxyMetrics, extraRoutes: Record<string, Route> = {}): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = extraRoutes[path];
    if (route) {
      Promise.resolve(route(req, res)).catch((e) => res.writeHead(500).end(String(e)));
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      (e) => res.writeHead(500).end(String(e)),
    );
  });
  limitHttpServer(server);
  await listen(server, bind);
  return server;
}
