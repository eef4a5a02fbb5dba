// Health-check node ports: for every LoadBalancer Service with externalTrafficPolicy Local,
// an HTTP server on its healthCheckNodePort that tells the cloud load balancer whether this
// node has a ready endpoint of it, answered as kube-proxy answers:
//   200 when the node has ≥ 1 ready local endpoint (and kube-proxy is healthy), else 503;
//   header X-Load-Balancing-Endpoint-Weight: <count>; a JSON body naming the Service.
import { createServer, type Server } from 'node:http';
import type { Logger } from '../util/log.js';
import { localReadyEndpoints } from '../model/stats.js';
import type { ProxyState } from '../model/types.js';
import { listenOn } from '../util/net.js';
import { limitHttpServer } from '../util/http-limits.js';
import { healthCheckAddresses, interfaceAddresses } from './listen-addresses.js';

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
  // One pass: the port belongs to the first Service that asks for it, and its count is the
  // largest over that Service's ports (each of them carries the Service's healthCheckNodePort).
  const out = new Map<number, HealthCheckTarget>();
  for (const sp of state.servicePorts.values()) {
    if (!sp.healthCheckNodePort) continue;
    const local = localReadyEndpoints(sp);
    const t = out.get(sp.healthCheckNodePort);
    if (!t) out.set(sp.healthCheckNodePort, { namespace: sp.namespace, name: sp.name, localEndpoints: local });
    else if (t.namespace === sp.namespace && t.name === sp.name) t.localEndpoints = Math.max(t.localEndpoints, local);
  }
  return out;
}

export interface ServiceHealthOptions {
  log: Logger;
  /** Whether the proxy itself is healthy (kube-proxy's /healthz verdict). */
  proxyHealthy?: () => boolean;
  /** Address to listen on (tests); when unset, the addresses that nodePortAddresses selects. */
  host?: string;
  /** --nodeport-addresses: each port listens on the node IPs it selects (every address when empty). */
  nodePortAddresses?: readonly string[];
  /** The machine's interface addresses (default: read from the interfaces at each new port). */
  interfaceAddresses?: () => readonly string[];
}

export class ServiceHealthServers {
  private readonly servers = new Map<number, Server[]>();
  private targets = new Map<number, HealthCheckTarget>();
  private node: ProxyState['node'] | undefined;

  constructor(private readonly opts: ServiceHealthOptions) {}

  /** Starts servers for new health-check ports, stops those no longer wanted, updates counts. */
  async update(state: ProxyState): Promise<void> {
    this.targets = healthCheckTargets(state);
    this.node = state.node;
    for (const [port, servers] of this.servers) {
      if (this.targets.has(port)) continue;
      this.servers.delete(port);
      await Promise.all(servers.map(closeServer));
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

  /** The bound "address:port" of every listener (what `ss -ltn` would show). */
  listening(): string[] {
    const out: string[] = [];
    for (const servers of this.servers.values())
      for (const s of servers) {
        const a = s.address();
        if (a && typeof a === 'object') out.push(a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
      }
    return out.sort();
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].flat().map(closeServer));
    this.servers.clear();
  }

  /** One listener per selected address; if one cannot bind, none is kept (as kube-proxy does). */
  private async listen(port: number): Promise<Server[]> {
    const hosts = this.opts.host ? [this.opts.host] : healthCheckAddresses(this.opts.nodePortAddresses ?? [], (this.opts.interfaceAddresses ?? interfaceAddresses)(), this.node);
    if (hosts && hosts.length === 0) throw new Error(`no address of this node matches --nodeport-addresses ${(this.opts.nodePortAddresses ?? []).join(',')}`);
    const servers: Server[] = [];
    try {
      if (hosts === null) servers.push(await this.listenOne(port, '::').catch(() => this.listenOne(port, '0.0.0.0')));
      else for (const host of hosts) servers.push(await this.listenOne(port, host));
    } catch (e) {
      await Promise.all(servers.map(closeServer));
      throw e;
    }
    return servers;
  }

  private async listenOne(port: number, host: string): Promise<Server> {
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
    await listenOn(server, host, port);
    return server;
  }
}

/** Closes a server now, keep-alive connections included. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
