// Health-check node ports: for every LoadBalancer Service with externalTrafficPolicy Local,
// an HTTP server on its healthCheckNodePort that tells the cloud load balancer whether this
// node has a ready endpoint of it, answered as kube-proxy answers:
//   200 when the node has ≥ 1 ready local endpoint (and kube-proxy is healthy), else 503;
//   header X-Load-Balancing-Endpoint-Weight: <count>; a JSON body naming the Service.
import { createServer, type Server } from 'node:http';
import type { Logger } from '../util/log.js';
import { localReadyEndpointCount } from '../model/stats.js';
import type { ProxyState } from '../model/types.js';
import { listenOn } from '../util/net.js';
import { limitHttpServer } from '../util/http-limits.js';

/** The body kube-proxy writes (a tab-indented JSON document). */
export function healthCheckBody(namespace: string, name: string, localEndpoints: number, serviceProxyHealthy: boolean): string {
  return [
    '{',
    '\t"service": {',
    `\t\t"namespace": ${JSON.stringify(namespace)},`,
    `\t\t"name": ${JSON.stringify(name)}`,
    '\t},',
    `\t"localEndpoints": ${localEndpoints},`,
    `\t"serviceProxyHealthy": ${serviceProxyHealthy}`,
    '}',
  ].join('\n');
}

export interface HealthCheckTarget {
  namespace: string;
  name: string;
  /** Ready endpoints of the Service on this node. */
  localEndpoints: number;
}

/** The health-check node ports a ProxyState asks for, by port. */
export function healthCheckTargets(state: ProxyState): Map<number, HealthCheckTarget> {
  const out = new Map<number, HealthCheckTarget>();
  for (const sp of state.servicePorts.values()) {
    if (!sp.healthCheckNodePort || out.has(sp.healthCheckNodePort)) continue;
    out.set(sp.healthCheckNodePort, { namespace: sp.namespace, name: sp.name, localEndpoints: localReadyEndpointCount(state, sp.namespace, sp.name) });
  }
  return out;
}

export interface ServiceHealthOptions {
  log: Logger;
  /** Whether the proxy itself is healthy (kube-proxy's /healthz verdict). */
  proxyHealthy?: () => boolean;
  /** Address to listen on (default: every address, "::" falling back to "0.0.0.0"). */
  host?: string;
}

export class ServiceHealthServers {
  private readonly servers = new Map<number, Server>();
  private targets = new Map<number, HealthCheckTarget>();

  constructor(private readonly opts: ServiceHealthOptions) {}

  /** Starts servers for new health-check ports, stops those no longer wanted, updates counts. */
  async update(state: ProxyState): Promise<void> {
    this.targets = healthCheckTargets(state);
    for (const [port, server] of this.servers) {
      if (this.targets.has(port)) continue;
      this.servers.delete(port);
      await closeServer(server);
    }
    for (const port of this.targets.keys()) {
      if (this.servers.has(port)) continue;
      try {
        this.servers.set(port, await this.listen(port));
      } catch (e) {
        const t = this.targets.get(port)!;
        this.opts.log.error({ port, service: `${t.namespace}/${t.name}`, err: (e as Error).message }, 'cannot open healthCheckNodePort');
      }
    }
  }

  ports(): number[] {
    return [...this.servers.keys()].sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map(closeServer));
    this.servers.clear();
  }

  private listen(port: number): Promise<Server> {
    const server = createServer((req, res) => {
      const t = this.targets.get(port);
      if (!t) {
        res.writeHead(503).end();
        return;
      }
      const healthy = this.opts.proxyHealthy?.() ?? true;
      res.writeHead(t.localEndpoints > 0 && healthy ? 200 : 503, {
        'Content-Type': 'application/json',
        'X-Content-Type-Options': 'nosniff',
        'X-Load-Balancing-Endpoint-Weight': String(t.localEndpoints),
      });
      res.end(healthCheckBody(t.namespace, t.name, t.localEndpoints, healthy));
    });
    limitHttpServer(server);
    const tryListen = (host: string) => listenOn(server, host, port);
    return (async () => {
      if (this.opts.host) await tryListen(this.opts.host);
      else await tryListen('::').catch(() => tryListen('0.0.0.0'));
      return server;
    })();
  }
}

/** Closes a server now, keep-alive connections included. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
