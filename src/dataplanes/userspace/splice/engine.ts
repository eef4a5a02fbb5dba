// The main thread's side of the splice path: hands a connected client/backend pair over to
// the pump thread (pump.ts) and hears back when it has ended. Handing over duplicates both
// descriptors for the pump and then closes Node's sockets: closing a duplicate sends nothing
// on the wire, and the JavaScript socket objects are freed (memory at 10,000 connections).
import type net from 'node:net';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../../util/log.js';
import * as C from './libc.js';
import { needsWake, newRing, Op, push } from './ring.js';

/** Pipe capacity per direction in flight (F_SETPIPE_SZ); $KPROXY_SPLICE_PIPE_KB overrides (benchmarks). */
const PIPE_BYTES = Number(process.env.KPROXY_SPLICE_PIPE_KB ?? 256) * 1024;

interface Handed {
  fds: [number, number];
  onClose: () => void;
}

export class SpliceEngine {
  private readonly ring = newRing();
  private readonly wake = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);
  private readonly live = new Map<number, Handed>();
  private nextId = 1;
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
    this.worker = new Worker(new URL('./pump.js', import.meta.url), { workerData: { ring: this.ring, wakeFd, pipeBytes: PIPE_BYTES } });
    this.worker.unref();
    this.worker.on('message', (ids: number[] | 'ready') => {
      if (ids === 'ready') this.ready = true;
      else for (const id of ids) this.ended(id);
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
  adopt(client: net.Socket, backend: net.Socket, onClose: () => void): (() => void) | null {
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
    if (!push(this.ring, Op.Add, id, da, db)) {
      libc.close(da);
      libc.close(db);
      return null;
    }
    this.live.set(id, { fds: [da, db], onClose });
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

  /** Wakes the pump only if it sleeps (an eventfd write costs a syscall and a thread wake-up). */
  private wakeUp(): void {
    if (needsWake(this.ring)) this.libc.write(this.wakeFd, this.wake, 8);
  }

  private ended(id: number): void {
    const h = this.live.get(id);
    if (!h) return;
    this.live.delete(id);
    if (this.live.size === 0 && !this.stopping) this.worker.unref();
    h.onClose();
  }

  /** The thread failed: its connections cannot be served any more; close them and copy in JavaScript from now on. */
  private died(reason: string): void {
    if (this.stopping) return;
    this.dead = true;
    this.log.error(`the splice thread of the userspace proxy stopped (${reason}); its ${this.live.size} connections are closed, new ones are copied in JavaScript`);
    for (const [id, h] of [...this.live]) {
      this.libc.close(h.fds[0]);
      this.libc.close(h.fds[1]);
      this.ended(id);
    }
  }
}

/** The descriptor of a connected TCP socket (Node's handle keeps it in `fd` on Unix). */
function fdOf(s: net.Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}
