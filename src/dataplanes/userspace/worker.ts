// A worker process of the userspace proxy. It accepts on listening sockets the primary shares
// with it (the kernel hands each new connection to whichever process accepts first), with its
// own balancers built from the routes the primary sends after every sync. It never binds,
// never touches addresses and serves no Service with session affinity (those stay in the
// primary, so that all of a client IP's connections meet the same affinity table).
import type net from 'node:net';
import { Registry } from 'prom-client';
import { createLogger } from '../../util/log.js';
import { ServiceBalancer } from './balancer.js';
import { EndpointHealth } from './health.js';
import { UserspaceMetrics } from './metrics.js';
import { parseRanges } from './route.js';
import { TcpListener } from './tcp.js';
import type { FromWorker, ToWorker } from './wire.js';
import { requestedBulkPath, startBulkPath } from './splice/choose.js';

const log = createLogger(Number(process.env.KPROXY_LOG_V ?? 0)).child({ worker: process.pid });
const metrics = new UserspaceMetrics(new Registry());
const health = new EndpointHealth();
const balancers = new Map<string, ServiceBalancer>();
const listeners = new Map<string, TcpListener>();
const engine = startBulkPath(requestedBulkPath(), log);
const dialTimeouts = process.env.KPROXY_DIAL_TIMEOUTS ? process.env.KPROXY_DIAL_TIMEOUTS.split(',').map(Number) : undefined;

process.on('message', (m: ToWorker, handle?: net.Server) => {
  switch (m.t) {
    case 'routes': {
      const keep = new Set<string>();
      for (const [key, input, scheduler] of m.servicePorts) {
        keep.add(key);
        const b = balancers.get(key);
        if (b) b.update(input, scheduler);
        else balancers.set(key, new ServiceBalancer(input, scheduler, health));
      }
      for (const key of balancers.keys()) if (!keep.has(key)) balancers.delete(key);
      return;
    }
    case 'listen': {
      const balancer = balancers.get(m.servicePort);
      if (!balancer) {
        handle?.close(); // never accept on a socket we cannot serve
        return;
      }
      const route = { balancer, kind: m.kind, sourceRanges: parseRanges(m.sourceRanges) };
      const l = listeners.get(m.key);
      if (l) l.route = route;
      else if (handle) listeners.set(m.key, new TcpListener(route, metrics, log, dialTimeouts, handle, engine));
      return;
    }
    case 'close': {
      const l = listeners.get(m.key);
      listeners.delete(m.key);
      void l?.close(m.graceMs);
      return;
    }
    case 'stop':
      for (const l of listeners.values()) void l.close(0);
      listeners.clear();
      void engine?.stop();
      setTimeout(() => process.exit(0), 50).unref();
      return;
  }
});
// the primary went away: so do we
process.on('disconnect', () => process.exit(0));
// Only now, with the handler in place, may the primary hand over sockets: one that arrived
// earlier would be accepted on by Node's own wrapper server, with nobody to serve it.
process.send?.({ t: 'ready' } satisfies FromWorker);

// counters go to the primary as deltas, once a second and only when something changed
const sent = { retries: new Map<string, number>(), rejected: new Map<string, number>(), tcp: -1 };
setInterval(async () => {
  const delta = async (c: typeof metrics.retries, last: Map<string, number>) => {
    const out: Record<string, number> = {};
    for (const v of (await c.get()).values) {
      const r = String(v.labels.reason);
      const d = v.value - (last.get(r) ?? 0);
      if (d > 0) out[r] = d;
      last.set(r, v.value);
    }
    return out;
  };
  const msg: FromWorker = { t: 'stats', retries: await delta(metrics.retries, sent.retries), rejected: await delta(metrics.rejected, sent.rejected), tcpConnections: metrics.live.tcpConnections };
  if (Object.keys(msg.retries).length === 0 && Object.keys(msg.rejected).length === 0 && msg.tcpConnections === sent.tcp) return;
  sent.tcp = msg.tcpConnections;
  process.send?.(msg);
}, 1000).unref();
