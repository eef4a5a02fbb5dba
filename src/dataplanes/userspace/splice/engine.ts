// The main thread's side of the splice path: hands a connected client/backend pair over to
// the pump thread (pump.ts) and hears back when it has ended. Handing over duplicates both
// descriptors for the pump and then closes Node's sockets: closing a duplicate sends nothing
// on the wire, and the JavaScript socket objects are freed (memory at 10,000 connections).
// A connection can also be handed over straight from accept (dial()): the pump dials the
// backend itself and reports back, and Node never builds a socket object for it.
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../../util/log.js';
import * as C from './libc.js';
import { needsWake, newRing, Op, publish, push, reserve } from './ring.js';
import { disown, newOwnedTable, own, ownedFds } from './owned.js';

/** Pipe capacity per direction in flight (F_SETPIPE_SZ); $KPROXY_SPLICE_PIPE_KB overrides (benchmarks). */
const PIPE_BYTES = Number(process.env.KPROXY_SPLICE_PIPE_KB ?? 512) * 1024;

/** A connection the pump holds, as main sees it. */
export interface Handed {
  /** The connection is over; `lost`: cut because the pump thread died (not by either end). */
  onClose(lost: boolean): void;
  /** A dial from the pump connected (dial() only). */
  onConnect?(): void;
  /** A dial from the pump failed with this errno (ETIMEDOUT on timeout); answer with redial() or reset(). */
  onFail?(errno: number): void;
}

/** What the pump reports, in flattened triples [kind, id, errno] (pump.ts). */
const CLOSED = 1;
const CONNECTED = 2;
const FAILED = 3;

export class SpliceEngine {
  private readonly ring = newRing();
  /** Descriptors the pump holds (owned.ts): closed here if it dies. */
  private readonly owned = newOwnedTable();
  private readonly wake = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);
  private readonly live = new Map<number, Handed>();
  private nextId = 1;
  /** Connections taken straight from accept (dial()) and as connected pairs (adopt()), for tests. */
  dialled = 0;
  adopted = 0;
  private dead = false;
  /** The thread has started: until then connections are copied in JavaScript. */
  private ready = false;
  private stopping = false;
  private readonly worker: Worker;

  private constructor(
    private readonly libc: C.Libc,
    private readonly wakeFd: number,
    private readonly log: Logger,
  ) {
    this.worker = new Worker(new URL('./pump.js', import.meta.url), { workerData: { ring: this.ring, owned: this.owned, wakeFd, pipeBytes: PIPE_BYTES } });
    this.worker.unref();
    this.worker.on('message', (r: number[] | 'ready') => {
      if (r === 'ready') this.ready = true;
      else for (let i = 0; i < r.length; i += 3) this.report(r[i], r[i + 1], r[i + 2]);
    });
    let why = '';
    this.worker.on('error', (e) => {
      this.dead = true; // no new connections; the ones it had are closed at 'exit'
      why = e.message;
    });
    // messages the thread posted before it ended have been delivered by now
    this.worker.on('exit', (code) => this.died(why || `exited with code ${code}`));
  }

  /** A running engine, or null with the reason (the caller copies in JavaScript then). */
  static start(log: Logger): SpliceEngine | string {
    const libc = C.loadLibc();
    if (!libc) return C.libcUnavailable;
    const wakeFd = libc.eventfd(0, C.EFD_NONBLOCK | C.O_CLOEXEC);
    if (wakeFd < 0) return `eventfd failed (errno ${libc.errno()})`;
    return new SpliceEngine(libc, wakeFd, log);
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Resolves once the thread takes connections (tests, benchmarks); false if it failed. */
  whenReady(): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => (this.ready || this.dead ? resolve(this.ready && !this.dead) : setTimeout(check, 10));
      check();
    });
  }

  /** Connections the pump copies now. */
  get size(): number {
    return this.live.size;
  }

  /**
   * Takes over a connected pair: from now on the pump copies their bytes. Returns a function
   * that closes the connection at once (a removed Service's grace period), or null when the
   * pair cannot be handed over (then nothing changed and the caller copies in JavaScript).
   * Neither socket may have read anything yet.
   */
  adopt(client: net.Socket, backend: net.Socket, onClose: (lost: boolean) => void): (() => void) | null {
    if (this.dead || !this.ready) return null;
    const a = fdOf(client);
    const b = fdOf(backend);
    if (a < 0 || b < 0) return null;
    const { libc } = this;
    const da = libc.fcntl(a, C.F_DUPFD_CLOEXEC, 0);
    if (da < 0) return null;
    const db = libc.fcntl(b, C.F_DUPFD_CLOEXEC, 0);
    if (db < 0) {
      libc.close(da);
      return null;
    }
    const id = this.nextId;
    this.nextId = (this.nextId % 0x3fffffff) + 1;
    own(this.owned, da);
    own(this.owned, db);
    if (!push(this.ring, Op.Add, id, da, db)) {
      disown(this.owned, da);
      disown(this.owned, db);
      libc.close(da);
      libc.close(db);
      return null;
    }
    this.live.set(id, { onClose });
    this.adopted++;
    // connections in the thread keep the process up, as Node's own sockets would
    if (this.live.size === 1) this.worker.ref();
    this.wakeUp();
    // Node's handles go; the duplicates keep the connections open
    client.destroy();
    backend.destroy();
    return () => {
      if (this.live.has(id) && push(this.ring, Op.Close, id)) this.wakeUp();
    };
  }

  /**
   * Sets TCP_NODELAY on a listening socket: Linux copies it to every connection accepted there,
   * which spares the pump a setsockopt per connection. False if it failed.
   */
  noDelayOnAccepted(listenFd: number): boolean {
    return this.libc.setsockopt(listenFd, C.IPPROTO_TCP, C.TCP_NODELAY, Buffer.from([1, 0, 0, 0]), 4) === 0;
  }

  /** The pump takes connections straight from accept (dial()). */
  get takesDials(): boolean {
    return this.ready && !this.dead;
  }

  /**
   * Hands over an accepted client by its descriptor (Node's handle is closed by the caller
   * afterwards): the pump dials ip:port with this timeout and reports to `h`. Returns the
   * connection's id, or 0 when it cannot be handed over (nothing changed then).
   */
  dial(clientFd: number, ip: string, port: number, timeoutMs: number, h: Handed): number {
    if (this.dead || !this.ready) return 0;
    const fd = this.libc.fcntl(clientFd, C.F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return 0;
    const id = this.nextId;
    own(this.owned, fd);
    if (!this.pushDial(id, fd, ip, port, timeoutMs)) {
      disown(this.owned, fd);
      this.libc.close(fd);
      return 0;
    }
    this.nextId = (this.nextId % 0x3fffffff) + 1;
    this.live.set(id, h);
    this.dialled++;
    if (this.live.size === 1) this.worker.ref();
    this.wakeSoon();
    return id;
  }

  /** Another attempt for a connection whose dial failed; false if it could not be asked (the caller resets). */
  redial(id: number, ip: string, port: number, timeoutMs: number): boolean {
    if (!this.live.has(id) || !this.pushDial(id, -1, ip, port, timeoutMs)) return false;
    this.wakeUp();
    return true;
  }

  /** Closes a connection now; with `reset`, the client gets a reset (every dial failed). */
  close(id: number, reset = false): void {
    if (this.live.has(id) && push(this.ring, reset ? Op.Reset : Op.Close, id)) this.wakeUp();
  }

  private pushDial(id: number, fd: number, ip: string, port: number, timeoutMs: number): boolean {
    const a = addressWords(ip);
    const at = reserve(this.ring);
    if (at < 0 || !a) return false;
    const r = this.ring;
    r[at] = Op.Dial;
    r[at + 1] = id;
    r[at + 2] = fd;
    r[at + 3] = timeoutMs;
    r[at + 4] = port;
    for (let i = 0; i < 5; i++) r[at + 5 + i] = a[i];
    publish(r);
    return true;
  }

  private report(kind: number, id: number, errno: number): void {
    if (kind === CLOSED) return this.ended(id);
    const h = this.live.get(id);
    if (kind === CONNECTED) h?.onConnect?.();
    else if (kind === FAILED) h?.onFail?.(errno);
  }

  /** Ends every connection and the thread. */
  async stop(): Promise<void> {
    if (this.dead) return;
    this.dead = this.stopping = true;
    this.worker.ref(); // keep the process up until the thread has closed its sockets
    const exited = new Promise((r) => this.worker.once('exit', r));
    if (push(this.ring, Op.Stop)) this.wakeUp();
    else void this.worker.terminate();
    const t = setTimeout(() => void this.worker.terminate(), 2000);
    await exited;
    clearTimeout(t);
    for (const id of [...this.live.keys()]) this.ended(id);
    this.libc.close(this.wakeFd);
  }

  /**
   * Wakes the pump once the accepts of this event-loop turn are all in the ring: libuv accepts
   * many connections per readiness of a listening socket, and one eventfd write serves them all.
   */
  private wakeSoon(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(this.wakeNow);
  }
  private wakePending = false;
  private readonly wakeNow = () => {
    this.wakePending = false;
    this.wakeUp();
  };

  /** Wakes the pump only if it sleeps (an eventfd write costs a syscall and a thread wake-up). */
  private wakeUp(): void {
    if (needsWake(this.ring)) this.libc.write(this.wakeFd, this.wake, 8);
  }

  private ended(id: number, lost = false): void {
    const h = this.live.get(id);
    if (!h) return;
    this.live.delete(id);
    if (this.live.size === 0 && !this.stopping) this.worker.unref();
    h.onClose(lost);
  }

  /** The thread failed: its connections cannot be served any more; close them and copy in JavaScript from now on. */
  private died(reason: string): void {
    if (this.stopping) return;
    this.dead = true;
    this.log.error(`the splice thread of the userspace proxy stopped (${reason}); its ${this.live.size} connections are closed, new ones are copied in JavaScript`);
    // every socket and pipe it held, the backend sockets it dialled itself among them
    for (const fd of ownedFds(this.owned)) {
      disown(this.owned, fd);
      this.libc.close(fd);
    }
    for (const id of [...this.live.keys()]) this.ended(id, true);
  }

  /** Descriptors the pump holds now (tests: none may be left after it died). */
  heldFds(): number[] {
    return ownedFds(this.owned);
  }
}

const words = new Map<string, Int32Array | null>();

/** [family 4|6, address as four big-endian words], cached per address (a backend is dialled again and again). */
function addressWords(ip: string): Int32Array | null {
  let a = words.get(ip);
  if (a !== undefined) return a;
  a = null;
  const v = net.isIP(ip);
  if (v === 4) {
    const [x, y, z, w] = ip.split('.').map(Number);
    a = Int32Array.of(4, (x << 24) | (y << 16) | (z << 8) | w | 0, 0, 0, 0);
  } else if (v === 6) {
    const b = Buffer.from(ipaddr.parse(ip).toByteArray());
    a = Int32Array.of(6, b.readInt32BE(0), b.readInt32BE(4), b.readInt32BE(8), b.readInt32BE(12));
  }
  if (words.size > 10_000) words.clear();
  words.set(ip, a);
  return a;
}

/** The descriptor of a connected TCP socket (Node's handle keeps it in `fd` on Unix). */
function fdOf(s: net.Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}
