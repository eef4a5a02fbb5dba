// A UDP listener on one service address, with one session per client address and port.
// A session is a socket connected to the chosen backend: the client's datagrams go out on it,
// the backend's replies come back on it and leave through the listener's socket, so the
// client sees them come from the service address it sent to. A session ends after
// config.udpIdleTimeoutMs without traffic either way, when its backend refuses (ICMP port
// unreachable: the backend is ejected and the next datagram picks another), or when its
// backend leaves the service (kube-proxy clears conntrack entries of stale UDP endpoints for
// the same reason: otherwise the client's flow would stay pinned to a dead endpoint).
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../../util/log.js';
import type { UserspaceMetrics } from './metrics.js';
import type { Backend } from './schedulers/index.js';
import { allowedSource, type Route } from './route.js';

/** Datagrams kept per session while its backend socket connects. */
const PENDING_MAX = 64;

interface Session {
  upstream: dgram.Socket;
  backend: Backend;
  /** Last traffic, on the listener's coarse clock. */
  last: number;
  pending: Buffer[] | null;
}

export class UdpListener {
  readonly socket: dgram.Socket;
  route: Route;
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;
  /** A coarse clock, advanced by the sweeper: no clock read per datagram. */
  private now = Date.now();

  constructor(
    route: Route,
    ip: string,
    private readonly idleTimeoutMs: number,
    private readonly metrics: UserspaceMetrics,
    private readonly log: Logger,
  ) {
    this.route = route;
    this.socket = dgram.createSocket({ type: isIPv6(ip) || ip === '::' ? 'udp6' : 'udp4', ipv6Only: ip === '::' });
    this.socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo.address, rinfo.port));
    const tick = Math.max(50, Math.min(1000, idleTimeoutMs / 4));
    this.sweeper = setInterval(() => this.sweep(), tick);
    this.sweeper.unref();
  }

  listen(ip: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: ip, port }, () => {
        this.socket.off('error', reject);
        this.socket.on('error', (e) => this.log.error({ err: e.message }, 'udp listener error'));
        resolve();
      });
    });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const key of [...this.sessions.keys()]) this.end(key);
    this.socket.close();
  }

  /** Ends the sessions whose backend is no longer among the route's endpoints. */
  dropStale(): void {
    const { balancer, kind } = this.route;
    const sets = kind === 'external' ? [balancer.backends(kind), balancer.backends('shortCircuit')] : [balancer.backends(kind)];
    const live = new Set(sets.flat().map((b) => b.id));
    for (const [key, s] of this.sessions) if (!live.has(s.backend.id)) this.end(key);
  }

  private fromClient(msg: Buffer, address: string, port: number): void {
    const key = `${address}|${port}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = this.open(key, address, port) ?? undefined;
      if (!s) return;
    }
    s.last = this.now;
    if (s.pending) {
      if (s.pending.length < PENDING_MAX) s.pending.push(msg);
      return;
    }
    s.upstream.send(msg);
  }

  private open(key: string, address: string, port: number): Session | null {
    const { balancer, kind } = this.route;
    if (!allowedSource(this.route, address)) {
      this.metrics.rejected.inc({ reason: 'source_range' });
      return null;
    }
    // UDP cannot be refused from userspace: both "no endpoints" and "none usable" drop
    const set = balancer.setFor(kind, address);
    const b = balancer.choose(set, { clientIP: address, destIP: this.socket.address().address });
    if (!b) {
      this.metrics.rejected.inc({ reason: balancer.noEndpoints(set) === 'drop' ? 'no_usable_endpoints' : 'no_endpoints' });
      return null;
    }
    const upstream = dgram.createSocket(isIPv6(b.ip) ? 'udp6' : 'udp4');
    const s: Session = { upstream, backend: b, last: this.now, pending: [] };
    this.sessions.set(key, s);
    b.active++;
    this.metrics.live.udpSessions++;
    upstream.on('message', (reply) => {
      s.last = this.now;
      this.socket.send(reply, port, address);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') {
        balancer.failed(b, address);
        this.metrics.retries.inc({ reason: 'refused' });
      }
      this.end(key);
    });
    upstream.connect(b.port, b.ip, () => {
      const queued = s.pending ?? [];
      s.pending = null;
      for (const m of queued) upstream.send(m);
    });
    return s;
  }

  private end(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    s.backend.active--;
    this.metrics.live.udpSessions--;
    try {
      s.upstream.close();
    } catch {
      // already closed
    }
  }

  private sweep(): void {
    this.now = Date.now();
    const cutoff = this.now - this.idleTimeoutMs;
    for (const [key, s] of this.sessions) if (s.last < cutoff) this.end(key);
  }
}
