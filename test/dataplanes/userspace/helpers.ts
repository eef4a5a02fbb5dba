// Test helpers for the userspace dataplane: a ProxyState from plain objects, backends that
// say who they are, and clients. Addresses are random ones in 127.0.0.0/8 so that parallel
// runs (and other suites on the machine) do not collide.
import dgram from 'node:dgram';
import net from 'node:net';
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { UserspaceDataplane, type UserspaceOptions } from '../../../src/dataplanes/userspace/dataplane.js';
import { ProxyMetrics } from '../../../src/metrics/metrics.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import { silentLogger } from '../../../src/util/log.js';

export const NODE = 'test-node';

/** A fresh "127.A.B" prefix: .1-.99 for VIPs, .100+ for backends and clients. */
export function net127(): string {
  return `127.${10 + Math.floor(Math.random() * 240)}.${Math.floor(Math.random() * 256)}`;
}

export function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 9000);
}

// ---- objects ---------------------------------------------------------------------------------

export interface SvcOpts {
  name: string;
  clusterIP: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  type?: 'ClusterIP' | 'NodePort';
  nodePort?: number;
  externalIPs?: string[];
  externalTrafficPolicy?: 'Cluster' | 'Local';
  affinitySeconds?: number;
  annotations?: Record<string, string>;
}

export function service(o: SvcOpts): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.name, namespace: 'default', annotations: o.annotations ?? {} },
    spec: {
      type: o.type ?? 'ClusterIP',
      clusterIP: o.clusterIP,
      externalIPs: o.externalIPs,
      externalTrafficPolicy: o.externalTrafficPolicy,
      ports: [{ port: o.port, protocol: o.protocol ?? 'TCP', targetPort: 9999, ...(o.nodePort ? { nodePort: o.nodePort } : {}) }],
      ...(o.affinitySeconds ? { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: o.affinitySeconds } } } : {}),
    },
  };
}

export function slice(svc: string, backends: { ip: string; port: number }[], opts: { protocol?: string; nodeName?: string } = {}): object {
  const ports = [...new Set(backends.map((b) => b.port))];
  if (ports.length > 1) throw new Error('one port per slice in these tests');
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${svc}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: backends.map((b) => ({ addresses: [b.ip], nodeName: opts.nodeName ?? NODE, conditions: { ready: true } })),
    ports: [{ port: ports[0] ?? 9999, protocol: opts.protocol ?? 'TCP' }],
  };
}

// ---- the dataplane ---------------------------------------------------------------------------

export class Harness {
  readonly tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['127.0.0.1'] });
  readonly metrics = new ProxyMetrics();
  readonly dataplane: UserspaceDataplane;
  readonly config: Config;

  constructor(cfg: Partial<Config> = {}, opts: UserspaceOptions = {}) {
    this.config = { ...defaultConfig(), mode: 'userspace', ...cfg };
    // one process unless a test asks for workers: the scheduler tests count on one rr cycle
    this.dataplane = new UserspaceDataplane({ config: this.config, log: silentLogger(), metrics: this.metrics }, { workers: 0, ...opts });
  }

  async apply(...objects: object[]): Promise<void> {
    await this.dataplane.bulkPathReady(); // every test runs on the path asked for from its first connection
    for (const o of objects) {
      const err = this.tracker.upsert(o as never);
      if (err) throw new Error(`${err.kind} ${err.name}: ${err.field}: ${err.reason}`);
    }
    await this.dataplane.sync(this.tracker.snapshot(), false);
  }

  async remove(kind: 'Service' | 'EndpointSlice', name: string): Promise<void> {
    this.tracker.delete(kind, 'default', name);
    await this.dataplane.sync(this.tracker.snapshot(), false);
  }

  async metric(name: string): Promise<number> {
    const m = await this.metrics.registry.getSingleMetric(name)?.get();
    return (m?.values ?? []).reduce((a, v) => a + v.value, 0);
  }

  close(): Promise<void> {
    return this.dataplane.close();
  }
}

// ---- backends --------------------------------------------------------------------------------

/** A TCP backend: greets each connection with its name and a newline, then echoes. */
export async function tcpBackend(name: string, ip: string, port: number): Promise<net.Server> {
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    s.write(`${name}\n`);
    s.pipe(s);
  });
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, ip, () => resolve());
  });
  return srv;
}

export function closeServer(s: net.Server): Promise<void> {
  return new Promise((r) => {
    s.close(() => r());
    (s as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** Connects through the proxy and returns the greeting (the backend's name). */
export function whoAnswers(ip: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: ip, port, localAddress });
    let buf = '';
    const timer = setTimeout(() => s.destroy(new Error(`no answer from ${ip}:${port} within 5 s`)), 5000);
    s.setEncoding('utf8');
    s.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) {
        clearTimeout(timer);
        s.destroy();
        resolve(buf.slice(0, i));
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed by ${ip}:${port} without an answer`));
    });
  });
}

/** A connection that stays open; the greeting tells which backend holds it. */
export async function holdOpen(ip: string, port: number): Promise<{ name: string; socket: net.Socket }> {
  const socket = net.connect({ host: ip, port });
  socket.setEncoding('utf8');
  const name = await new Promise<string>((resolve, reject) => {
    let buf = '';
    socket.on('data', function onData(d) {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) {
        socket.off('data', onData);
        resolve(buf.slice(0, i));
      }
    });
    socket.once('error', reject);
  });
  return { name, socket };
}

/** A UDP backend that answers "name:payload". */
export async function udpBackend(name: string, ip: string, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(`${name}:${m}`, r.port, r.address));
  await new Promise<void>((resolve) => s.bind(port, ip, () => resolve()));
  return s;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
