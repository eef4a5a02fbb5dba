// /healthz and /livez on healthzBindAddress, answered as kube-proxy answers them.
import { createServer, type Server } from 'node:http';
import type { ProxyMetrics } from '../metrics/metrics.js';
import type { HealthStatus, ProxierHealth } from './proxier.js';
import { listen } from '../util/net.js';
import { limitHttpServer } from '../util/http-limits.js';

export function healthBody(s: HealthStatus, withNode: boolean): string {
  const body: Record<string, unknown> = {
    lastUpdated: s.lastUpdated ? s.lastUpdated.toISOString() : '',
    currentTime: s.currentTime.toISOString(),
  };
  if (withNode) body.nodeEligible = s.nodeEligible;
  return JSON.stringify(body);
}

export async function startHealthServer(bind: string, health: ProxierHealth, metrics: ProxyMetrics): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const livez = path === '/livez';
    if (path !== '/healthz' && !livez) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const s = livez ? health.live() : health.health();
    const code = s.healthy ? 200 : 503;
    (livez ? metrics.livezTotal : metrics.healthzTotal).inc({ code: String(code) });
    res.writeHead(code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
    res.end(healthBody(s, !livez));
  });
  limitHttpServer(server);
  await listen(server, bind);
  return server;
}
