// A TCP listener on one service address. Per connection: choose a backend, dial it with
// escalating timeouts (the old userspace proxy's 250 ms, 500 ms, 1 s, 2 s), passing to the
// next backend when one refuses or times out; then copy both ways. The byte path is a write
// per chunk and backpressure, nothing else. What the client sends while the backend is being
// dialled waits in the kernel's socket buffer: nothing is read before the backend is there
// (pauseOnConnect), so that the connection can be handed over whole to the splice path
// (splice/), which copies the bytes inside the kernel; the JavaScript copy loop below is the
// fallback.
//
// With the splice path running, most connections never become Node sockets at all: the
// listening handle's accept callback is taken over (hookAccept), the backend chosen there,
// and the accepted descriptor handed to the pump thread, which dials the backend itself and
// reports back (Spliced below); retries are decided here as on the socket path. A Node socket
// object per side costs more than all the rest of a short connection. The socket path stays
// for what the fast one leaves out: no endpoints (reject or drop), source ranges, and the
// moments before the pump thread is ready.
import net from 'node:net';
import type { Logger } from '../../util/log.js';
import type { EndpointSetName, ServiceBalancer } from './balancer.js';
import type { UserspaceMetrics } from './metrics.js';
import type { Backend, Flow } from './schedulers/index.js';
import { allowedSource, type Route } from './route.js';
import { noteFdExhaustion } from '../../util/fdlimit.js';
import type { Handed, SpliceEngine } from './splice/engine.js';
import { ECONNREFUSED, ETIMEDOUT } from './splice/libc.js';

export const DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000] as const;
/** "None usable for this policy" is a drop: the connection is held silently, then closed. */
export const DROP_HOLD_MS = 10_000;

export class TcpListener {
  readonly server: net.Server;
  route: Route;
  /** Connections being dialled or proxied (each: end it now), so that a Service's removal can end them. */
  readonly connections = new Set<Tracked>();
  private drained: (() => void) | null = null;

  constructor(
    route: Route,
    private readonly metrics: UserspaceMetrics,
    private readonly log: Logger,
    readonly dialTimeouts: readonly number[] = DIAL_TIMEOUTS_MS,
    shared?: net.Server,
    /** The splice path (null: copy in JavaScript). */
    readonly engine: SpliceEngine | null = null,
  ) {
    this.route = route;
    if (shared) {
      // a listening socket the primary process shares with this worker (workers.ts)
      this.server = shared;
      (this.server as net.Server & { pauseOnConnect: boolean }).pauseOnConnect = true;
      this.server.on('connection', (c: net.Socket) => {
        c.allowHalfOpen = true;
        c.setNoDelay(true);
        this.accept(c);
      });
      if (serverHandle(this.server)) this.hookAccept();
      else this.server.once('listening', () => this.hookAccept());
    } else {
      this.server = net.createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, (c) => this.accept(c));
    }
  }

  /**
   * Takes over the listening handle's accept callback (Node's net.js calls `onconnection` on
   * it with the accepted handle): connections the pump can dial for go there without a Node
   * socket; the rest take Node's usual way to accept() below.
   */
  private hookAccept(): void {
    const h = serverHandle(this.server);
    // the pump sets no TCP_NODELAY on accepted sockets: they inherit it from the listener
    if (!h || !this.engine || !this.engine.noDelayOnAccepted(h.fd)) return;
    const nodeAccept = h.onconnection;
    h.onconnection = (err: number, client?: ClientHandle) => {
      if (err !== 0 || !client || !this.acceptToPump(client)) nodeAccept.call(h, err, client);
    };
  }

  /** The fast way (see the top of the file): true when the pump took the connection. */
  private acceptToPump(client: ClientHandle): boolean {
    const engine = this.engine!;
    const { balancer, kind } = this.route;
    if (!engine.takesDials || this.route.sourceRanges.length > 0) return false;
    const flow = new HandleFlow(client);
    const set = balancer.setFor(kind, flow);
    const b = balancer.choose(set, flow, null);
    if (!b) return false; // no endpoints: the socket path rejects or drops
    const s = new Spliced(this, balancer, set, flow, b);
    s.id = engine.dial(client.fd, b.ip, b.port, this.dialTimeouts[0], s);
    if (s.id === 0) return false;
    flow.detach(balancer.hasAffinity);
    client.close(); // the pump holds a duplicate of the descriptor
    this.connections.add(s);
    this.metrics.live.tcpConnections++;
    return true;
  }

  /** A dial from the pump failed: the next backend, as dial() does on the socket path, or a reset. */
  retry(s: Spliced, errno: number): void {
    const failed = s.dialing;
    s.balancer.failed(failed, s.flow.clientIP);
    this.metrics.retries.inc({ reason: errno === ETIMEDOUT ? 'timeout' : errno === ECONNREFUSED ? 'refused' : 'error' });
    const next = ++s.attempt < this.dialTimeouts.length ? s.nextBackend() : null;
    if (next && this.engine!.redial(s.id, next.ip, next.port, this.dialTimeouts[s.attempt])) {
      s.dialing = next;
      return;
    }
    this.metrics.rejected.inc({ reason: 'all_failed' });
    this.engine!.close(s.id, true);
  }

  listen(ip: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: ip, port, ipv6Only: ip === '::', backlog: 4096 }, () => {
        this.server.off('error', reject);
        this.hookAccept();
        this.server.on('error', (e) => noteFdExhaustion(e, 'userspace TCP listener') || this.log.error({ err: e.message }, 'listener error'));
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
        for (const c of this.connections) c.end();
      }, endAfterMs);
      t.unref();
      this.drained = () => {
        clearTimeout(t);
        resolve();
      };
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
    const t: Tracked = { end: () => client.destroy(), backend: null, handedOver: false };
    this.connections.add(t);
    this.metrics.live.tcpConnections++;
    client.once('close', () => t.handedOver || this.ended(t));
    this.dial(client, t, balancer, set, flow, 0, null);
  }

  /** A connection is over, on whichever path it ran; `lost`: cut by the splice thread's death. */
  ended(t: Tracked, lost = false): void {
    if (!this.connections.delete(t)) return;
    this.metrics.live.tcpConnections--;
    if (lost) this.metrics.failed.inc({ reason: 'splice_thread_stopped' });
    if (t.backend) t.backend.active--;
    if (this.connections.size === 0 && this.drained) {
      const d = this.drained;
      this.drained = null;
      setImmediate(d);
    }
  }

  /** Holds the connection without answering (the closest a proxy comes to a dropped SYN). */
  private drop(client: net.Socket, reason: string): void {
    this.metrics.rejected.inc({ reason });
    const t = setTimeout(() => client.destroy(), DROP_HOLD_MS);
    t.unref();
    client.once('close', () => clearTimeout(t));
  }

  private dial(client: net.Socket, t: Tracked, balancer: ServiceBalancer, kind: EndpointSetName, flow: Flow, attempt: number, tried: Set<string> | null): void {
    if (client.destroyed) return;
    // every backend tried already (one endpoint, say): try them again, with the longer timeout
    const b = balancer.choose(kind, flow, tried) ?? (tried ? balancer.choose(kind, flow, null) : null);
    if (!b) return this.giveUp(client);
    const backend = net.connect({ host: b.ip, port: b.port, noDelay: true, allowHalfOpen: true });
    backend.pause(); // read nothing until the path is chosen (see afterConnect in Node's net.js)
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
      const again = tried ?? new Set<string>();
      again.add(b.id);
      this.dial(client, t, balancer, kind, flow, attempt + 1, again);
    });
    backend.once('connect', () => {
      clearTimeout(timer);
      client.off('close', abort);
      backend.removeAllListeners('error');
      b.active++;
      t.backend = b;
      const end = this.engine?.adopt(client, backend, (lost) => this.ended(t, lost));
      if (end) {
        t.handedOver = true;
        t.end = end;
      } else copyInJs(client, backend);
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

/** What Node's accept hands the listening handle (a TCPWrap): its descriptor, addresses and close. */
interface ClientHandle {
  fd: number;
  getpeername(out: { address?: string }): number;
  getsockname(out: { address?: string }): number;
  close(): void;
}

/** The listening TCPWrap of a net.Server (Node internals, stable since Node 0.x: `_handle.onconnection`). */
function serverHandle(server: net.Server): ServerHandle | null {
  return (server as unknown as { _handle?: ServerHandle | null })._handle ?? null;
}
interface ServerHandle {
  fd: number;
  onconnection: (err: number, client?: ClientHandle) => void;
}

/** The flow's addresses, read from the accepted handle only if asked (the handle is closed once handed over: read before). */
class HandleFlow implements Flow {
  private client: string | undefined;
  private dest: string | undefined;
  constructor(private handle: ClientHandle | null) {}
  get clientIP(): string {
    if (this.client === undefined) {
      const out: { address?: string } = {};
      this.handle?.getpeername(out);
      this.client = out.address ?? '';
    }
    return this.client;
  }
  get destIP(): string {
    if (this.dest === undefined) {
      const out: { address?: string } = {};
      this.handle?.getsockname(out);
      this.dest = out.address ?? '';
    }
    return this.dest;
  }
  /**
   * Called when the handle goes: what was not read by now is not needed (schedulers read at
   * the first choice), but for affinity, which failed() needs after a failed dial.
   */
  detach(affinity: boolean): void {
    if (affinity) void this.clientIP;
    this.handle = null;
  }
}

/** A connection the pump dialled for (acceptToPump): tracked like the others, with its dial state. */
class Spliced implements Tracked, Handed {
  id = 0;
  backend: Backend | null = null;
  readonly handedOver = true;
  attempt = 0;
  private tried: Set<string> | null = null;
  constructor(
    private readonly listener: TcpListener,
    readonly balancer: ServiceBalancer,
    private readonly set: EndpointSetName,
    readonly flow: HandleFlow,
    /** The backend being dialled (or connected). */
    public dialing: Backend,
  ) {}
  end(): void {
    this.listener.engine!.close(this.id);
  }
  onConnect(): void {
    this.dialing.active++;
    this.backend = this.dialing;
  }
  onFail(errno: number): void {
    this.listener.retry(this, errno);
  }
  onClose(lost: boolean): void {
    this.listener.ended(this, lost);
  }
  /** Every backend tried already (one endpoint, say): try them again, as dial() does. */
  nextBackend(): Backend | null {
    (this.tried ??= new Set()).add(this.dialing.id);
    return this.balancer.choose(this.set, this.flow, this.tried) ?? this.balancer.choose(this.set, this.flow, null);
  }
}

/** One proxied connection, from accept to close. */
interface Tracked {
  /** Ends it now (a removed Service's grace period is over). */
  end: () => void;
  /** The backend it was connected to (its active count goes down at the end). */
  backend: Backend | null;
  /** The splice path copies it: its JavaScript sockets are gone. */
  handedOver: boolean;
}

/**
 * The fallback path: copies both ways until both directions have ended. Per chunk: one write, and a pause when
 * the other side's buffer is full (backpressure) until it drains — what pipe() does, with
 * fewer listeners and closures per connection (memory at 10,000 connections counts).
 * A half-close is passed on (FIN for FIN); a reset on one side resets the other.
 */
function copyInJs(client: net.Socket, backend: net.Socket): void {
  backend.on('error', noop);
  forward(client, backend);
  forward(backend, client);
  client.resume(); // both were paused until now (pauseOnConnect, backend.pause())
  backend.resume();
  const finish = (from: net.Socket, to: net.Socket) => () => {
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
