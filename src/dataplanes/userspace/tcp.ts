// A TCP listener on one service address. Per connection: choose a backend, dial it with
// escalating timeouts (the old userspace proxy's 250 ms, 500 ms, 1 s, 2 s), passing to the
// next backend when one refuses or times out; then copy both ways. The byte path is a write
// per chunk and backpressure, nothing else. What the client sends while the backend is being
// dialled waits in the client socket's buffer (reading stops when it is full), so the socket
// is not paused and resumed: that would cost two epoll_ctl calls per connection.
import net from 'node:net';
import type { Logger } from '../../util/log.js';
import type { EndpointSetName, ServiceBalancer } from './balancer.js';
import type { UserspaceMetrics } from './metrics.js';
import type { Backend, Flow } from './schedulers/index.js';
import { allowedSource, type Route } from './route.js';

export const DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000] as const;
/** "None usable for this policy" is a drop: the connection is held silently, then closed. */
export const DROP_HOLD_MS = 10_000;

export class TcpListener {
  readonly server: net.Server;
  route: Route;
  /** Client sockets being proxied or dialed, so that a Service's removal can end them. */
  readonly connections = new Set<net.Socket>();

  constructor(
    route: Route,
    private readonly metrics: UserspaceMetrics,
    private readonly log: Logger,
    private readonly dialTimeouts: readonly number[] = DIAL_TIMEOUTS_MS,
    shared?: net.Server,
  ) {
    this.route = route;
    if (shared) {
      // a listening socket the primary process shares with this worker (workers.ts)
      this.server = shared;
      this.server.on('connection', (c: net.Socket) => {
        c.allowHalfOpen = true;
        c.setNoDelay(true);
        this.accept(c);
      });
    } else {
      this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (c) => this.accept(c));
    }
  }

  listen(ip: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: ip, port, ipv6Only: ip === '::', backlog: 4096 }, () => {
        this.server.off('error', reject);
        this.server.on('error', (e) => this.log.error({ err: e.message }, 'listener error'));
        resolve();
      });
    });
  }

  /** Stops accepting; open connections go on for `endAfterMs`, then are closed. Resolves when none is left. */
  close(endAfterMs: number): Promise<void> {
    this.server.close();
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        for (const c of this.connections) c.destroy();
      }, endAfterMs);
      t.unref();
      const check = () => {
        if (this.connections.size > 0) return;
        clearTimeout(t);
        resolve();
      };
      for (const c of this.connections) c.once('close', () => setImmediate(check));
    });
  }

  private accept(client: net.Socket): void {
    const { balancer, kind } = this.route;
    client.on('error', noop);
    const flow = new SocketFlow(client);
    if (this.route.sourceRanges.length > 0 && !allowedSource(this.route, flow.clientIP)) return this.drop(client, 'source_range');
    const set = balancer.setFor(kind, flow.clientIP);
    if (balancer.backends(set).length === 0) {
      if (balancer.noEndpoints(set) === 'reject') {
        // no endpoints at all: refuse at once, as kube-proxy's REJECT does
        this.metrics.rejected.inc({ reason: 'no_endpoints' });
        client.resetAndDestroy();
        return;
      }
      return this.drop(client, 'no_usable_endpoints');
    }
    this.connections.add(client);
    this.metrics.live.tcpConnections++;
    client.once('close', () => {
      this.connections.delete(client);
      this.metrics.live.tcpConnections--;
    });
    this.dial(client, balancer, set, flow, 0, null);
  }

  /** Holds the connection without answering (the closest a proxy comes to a dropped SYN). */
  private drop(client: net.Socket, reason: string): void {
    this.metrics.rejected.inc({ reason });
    const t = setTimeout(() => client.destroy(), DROP_HOLD_MS);
    t.unref();
    client.once('close', () => clearTimeout(t));
  }

  private dial(client: net.Socket, balancer: ServiceBalancer, kind: EndpointSetName, flow: Flow, attempt: number, tried: Set<string> | null): void {
    if (client.destroyed) return;
    // every backend tried already (one endpoint, say): try them again, with the longer timeout
    const b = balancer.choose(kind, flow, tried) ?? (tried ? balancer.choose(kind, flow, null) : null);
    if (!b) return this.giveUp(client);
    const backend = net.connect({ host: b.ip, port: b.port, noDelay: true, allowHalfOpen: true });
    const timer = setTimeout(() => backend.destroy(timeoutError), this.dialTimeouts[attempt]);
    const abort = () => {
      clearTimeout(timer);
      backend.destroy();
    };
    client.once('close', abort);
    backend.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      client.off('close', abort);
      if (client.destroyed) return;
      balancer.failed(b, flow.clientIP);
      this.metrics.retries.inc({ reason: err === timeoutError ? 'timeout' : err.code === 'ECONNREFUSED' ? 'refused' : 'error' });
      if (attempt + 1 >= this.dialTimeouts.length) return this.giveUp(client);
      const t = tried ?? new Set<string>();
      t.add(b.id);
      this.dial(client, balancer, kind, flow, attempt + 1, t);
    });
    backend.once('connect', () => {
      clearTimeout(timer);
      client.off('close', abort);
      backend.removeAllListeners('error');
      splice(client, backend, b);
    });
  }

  private giveUp(client: net.Socket): void {
    this.metrics.rejected.inc({ reason: 'all_failed' });
    client.resetAndDestroy();
  }
}

const timeoutError = new Error('connect timed out');

/** The flow's addresses, read from the socket only if a scheduler or affinity asks. */
class SocketFlow implements Flow {
  private client: string | undefined;
  private dest: string | undefined;
  constructor(private readonly socket: net.Socket) {}
  get clientIP(): string {
    return (this.client ??= this.socket.remoteAddress ?? '');
  }
  get destIP(): string {
    return (this.dest ??= this.socket.localAddress ?? '');
  }
}
function noop(): void {}

/**
 * Copies both ways until both directions have ended. Per chunk: one write, and a pause when
 * the other side's buffer is full (backpressure) until it drains — what pipe() does, with
 * fewer listeners and closures per connection (memory at 10,000 connections counts).
 * A half-close is passed on (FIN for FIN); a reset on one side resets the other.
 */
function splice(client: net.Socket, backend: net.Socket, b: Backend): void {
  b.active++;
  backend.on('error', noop);
  forward(client, backend);
  forward(backend, client);
  let done = false;
  const finish = (from: net.Socket, to: net.Socket) => () => {
    if (!done) {
      done = true;
      b.active--;
    }
    if (to.destroyed) return;
    const err = from.errored as NodeJS.ErrnoException | null;
    if (err?.code === 'ECONNRESET') to.resetAndDestroy();
    else if (err) to.destroy();
    else to.end(); // a clean close: what is still buffered reaches the other side first
  };
  client.once('close', finish(client, backend));
  backend.once('close', finish(backend, client));
}

function forward(from: net.Socket, to: net.Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}
