// The pump thread: copies the bytes of handed-over TCP connections with splice(2), from one
// socket into a pipe and from the pipe into the other socket, so they never enter JavaScript
// memory. It runs its own epoll loop (level-triggered), blocking in epoll_wait; the main
// thread hands over connections through a shared ring (ring.ts) and wakes it with an eventfd.
// Pipes are pooled and held only while bytes are in flight, so an idle connection costs its
// two sockets and a small object here.
//
// A connection arrives either as a connected pair (Op.Add: Node dialled the backend) or as an
// accepted client alone (Op.Dial): the pump then dials the backend itself with a nonblocking
// connect and reports the outcome, so that main never builds a Node socket for it; main keeps
// choosing the backend and deciding retries (a failed dial is dialled again on main's word).
//
// Semantics are those of the JavaScript copy loop (tcp.ts): a FIN is passed on as a FIN
// (shutdown(SHUT_WR)) once everything before it has been delivered; a reset on one side
// resets the other; the connection ends when both directions have ended.
import { parentPort, workerData } from 'node:worker_threads';
import * as C from './libc.js';
import { drain, Op, setSleeping } from './ring.js';

interface Setup {
  ring: Int32Array;
  wakeFd: number;
  pipeBytes: number;
}

const libc = C.loadLibc();
if (!libc) throw new Error(`splice pump: ${C.libcUnavailable}`);
const { ring, wakeFd, pipeBytes } = workerData as Setup;
const { splice, errno } = libc;
const FLAGS = C.SPLICE_F_MOVE | C.SPLICE_F_NONBLOCK;
const WAKE = 0xffffffff;
const MAX_EVENTS = 256;
/** Reads per readiness event before others get their turn (fairness between connections). */
const READS_PER_EVENT = 16;

/** One direction of a connection: bytes from `src` through a pipe to `dst`. */
class Dir {
  src: number;
  dst: number;
  pipeR = -1;
  pipeW = -1;
  /** Bytes in the pipe not yet written to dst (dst was full). */
  pending = 0;
  /** src sent FIN (or errored). */
  eof = false;
  /** FIN passed on to dst. */
  shut = false;
  constructor(
    src: number,
    dst: number,
    /** Index of src in the connection (0 = client, 1 = backend). */
    readonly side: 0 | 1,
  ) {
    this.src = src;
    this.dst = dst;
  }
}

class Conn {
  readonly fd: [number, number];
  readonly out: [Dir, Dir];
  /** epoll interest registered per side (0 = not registered). */
  readonly mask: [number, number] = [0, 0];
  closed = false;
  /** The backend is being dialled (a nonblocking connect waits for EPOLLOUT). */
  dialing = false;
  /** When the dial in progress times out (Date.now() ms). */
  deadline = 0;
  constructor(
    readonly id: number,
    readonly slot: number,
    client: number,
    backend: number,
  ) {
    this.fd = [client, backend];
    this.out = [new Dir(client, backend, 0), new Dir(backend, client, 1)];
  }
}

const epfd = libc.epoll_create1(C.O_CLOEXEC);
if (epfd < 0) throw new Error(`splice pump: epoll_create1 failed, errno ${errno()}`);
const ev = Buffer.alloc(C.EPOLL_EVENT_SIZE);
const events = Buffer.alloc(C.EPOLL_EVENT_SIZE * MAX_EVENTS);
const eightBytes = Buffer.alloc(8);
const linger = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]); // { l_onoff: 1, l_linger: 0 }: close sends RST
const intBuf = Buffer.alloc(4);
const intLen = new Int32Array([4]);
const pipeFds = new Int32Array(2);

const slots: (Conn | null)[] = [];
const freeSlots: number[] = [];
/** Slots released during the current batch of events: reused only after it (stale events). */
let releasedSlots: number[] = [];
const byId = new Map<number, Conn>();
const freePipes: number[] = [];
/** Reports to main, flattened triples [Report, id, errno]: posted once per loop turn. */
let reports: number[] = [];
const enum Report {
  Closed = 1,
  Connected = 2,
  Failed = 3,
}
/** Connections whose backend is being dialled, and the earliest of their deadlines. */
const dialing = new Set<Conn>();
let nextDeadline = Infinity;
const sa4 = Buffer.alloc(16); // struct sockaddr_in
const sa6 = Buffer.alloc(28); // struct sockaddr_in6
sa4.writeUInt16LE(C.AF_INET, 0);
sa6.writeUInt16LE(C.AF_INET6, 0);
const one = Buffer.from([1, 0, 0, 0]);

function ctl(op: number, fd: number, mask: number, key: number): number {
  ev.writeUInt32LE(mask, 0);
  ev.writeUInt32LE(key >>> 0, C.EPOLL_DATA_OFFSET);
  ev.writeUInt32LE(0, C.EPOLL_DATA_OFFSET + 4);
  return libc!.epoll_ctl(epfd, op, fd, ev);
}

if (ctl(C.EPOLL_CTL_ADD, wakeFd, C.EPOLLIN, WAKE) < 0) throw new Error(`splice pump: epoll_ctl failed, errno ${errno()}`);

function newConn(id: number, client: number, backend: number): Conn {
  const slot = freeSlots.length > 0 ? freeSlots.pop()! : slots.length;
  const c = new Conn(id, slot, client, backend);
  slots[slot] = c;
  byId.set(id, c);
  return c;
}

function add(id: number, client: number, backend: number): void {
  const c = newConn(id, client, backend);
  // data the client sent while the backend was dialled is already waiting: the first
  // level-triggered epoll_wait reports it
  updateMask(c, 0);
  updateMask(c, 1);
}

/** Op.Dial: a new connection (its client's descriptor) or a new attempt for one whose dial failed. */
function dial(at: number): void {
  const id = ring[at + 1];
  let c = byId.get(id);
  if (!c) {
    c = newConn(id, ring[at + 2], -1); // (TCP_NODELAY: inherited from the listening socket, see tcp.ts)
  } else if (c.dialing || c.fd[1] >= 0) return; // main asks again only after a failure
  const family = ring[at + 5] === 6 ? C.AF_INET6 : C.AF_INET;
  const fd = libc!.socket(family, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0);
  if (fd < 0) return dialFailed(c, errno());
  c.fd[1] = c.out[0].dst = c.out[1].src = fd;
  libc!.setsockopt(fd, C.IPPROTO_TCP, C.TCP_NODELAY, one, 4);
  let r: number;
  if (family === C.AF_INET) {
    sa4.writeUInt16BE(ring[at + 4], 2);
    sa4.writeInt32BE(ring[at + 6], 4);
    r = libc!.connect(fd, sa4, 16);
  } else {
    sa6.writeUInt16BE(ring[at + 4], 2);
    for (let i = 0; i < 4; i++) sa6.writeInt32BE(ring[at + 6 + i], 8 + 4 * i);
    r = libc!.connect(fd, sa6, 28);
  }
  if (r === 0) return connected(c);
  const e = errno();
  if (e !== C.EINPROGRESS) return dialFailed(c, e);
  if (ctl(C.EPOLL_CTL_ADD, fd, C.EPOLLOUT, c.slot * 2 + 1) < 0) return dialFailed(c, errno());
  c.mask[1] = C.EPOLLOUT;
  c.dialing = true;
  c.deadline = Date.now() + ring[at + 3];
  if (dialing.size === 0 || c.deadline < nextDeadline) nextDeadline = c.deadline;
  dialing.add(c);
}

function connected(c: Conn): void {
  c.dialing = false;
  dialing.delete(c);
  reports.push(Report.Connected, c.id, 0);
  updateMask(c, 0);
  updateMask(c, 1);
}

/** The dial failed or timed out: the backend socket goes, the client waits for main's next word (Dial again or Reset). */
function dialFailed(c: Conn, e: number): void {
  c.dialing = false;
  dialing.delete(c);
  if (c.fd[1] >= 0) libc!.close(c.fd[1]); // also leaves the epoll set
  c.fd[1] = c.out[0].dst = c.out[1].src = -1;
  c.mask[1] = 0;
  reports.push(Report.Failed, c.id, e);
}

/** Dials past their deadline fail with ETIMEDOUT. */
function expireDials(): void {
  const now = Date.now();
  nextDeadline = Infinity;
  for (const c of dialing) {
    if (c.deadline <= now) dialFailed(c, C.ETIMEDOUT);
    else if (c.deadline < nextDeadline) nextDeadline = c.deadline;
  }
}

function takePipe(d: Dir): boolean {
  if (freePipes.length >= 2) {
    d.pipeW = freePipes.pop()!;
    d.pipeR = freePipes.pop()!;
    return true;
  }
  if (libc!.pipe2(pipeFds, C.O_NONBLOCK | C.O_CLOEXEC) < 0) return false;
  d.pipeR = pipeFds[0];
  d.pipeW = pipeFds[1];
  // a bigger pipe means fewer syscalls per megabyte; the kernel may cap it (not fatal)
  if (pipeBytes > 65536) libc!.fcntl(d.pipeW, C.F_SETPIPE_SZ, pipeBytes);
  return true;
}

function releasePipe(d: Dir): void {
  if (d.pipeR < 0) return;
  if (d.pending === 0 && freePipes.length < 128) freePipes.push(d.pipeR, d.pipeW);
  else {
    libc!.close(d.pipeR);
    libc!.close(d.pipeW);
  }
  d.pipeR = d.pipeW = -1;
}

/** Interest of one side: read while its outgoing direction is open and not blocked; write while bytes wait for it. */
function updateMask(c: Conn, side: 0 | 1): void {
  const from = c.out[side];
  const to = c.out[1 - side];
  const want = (!from.eof && from.pending === 0 ? C.EPOLLIN : 0) | (to.pending > 0 ? C.EPOLLOUT : 0);
  const had = c.mask[side];
  if (want === had) return;
  // a side with nothing to wait for leaves the set: level-triggered HUP/ERR would repeat otherwise
  const op = want === 0 ? C.EPOLL_CTL_DEL : had === 0 ? C.EPOLL_CTL_ADD : C.EPOLL_CTL_MOD;
  if (ctl(op, c.fd[side], want, c.slot * 2 + side) < 0) {
    if (process.env.KPROXY_SPLICE_DEBUG) console.error('epoll_ctl', op, c.fd[side], want, errno());
    return fail(c, side, errno());
  }
  c.mask[side] = want;
}

/** Writes what waits in the pipe; passes the FIN on once everything before it is out. */
function flush(c: Conn, d: Dir): void {
  while (d.pending > 0) {
    const m = splice(d.pipeR, null, d.dst, null, d.pending, FLAGS);
    if (m > 0) {
      d.pending -= m;
      continue;
    }
    const e = errno();
    if (e === C.EAGAIN) return;
    if (e === C.EINTR) continue;
    return fail(c, (1 - d.side) as 0 | 1, e);
  }
  if (d.eof && !d.shut) {
    d.shut = true;
    libc!.shutdown(d.dst, C.SHUT_WR);
  }
  releasePipe(d);
}

function pump(c: Conn, d: Dir): void {
  if (d.eof || d.pending > 0) return;
  for (let i = 0; i < READS_PER_EVENT; i++) {
    if (d.pipeW < 0 && !takePipe(d)) return fail(c, d.side, errno());
    const n = splice(d.src, null, d.pipeW, null, pipeBytes, FLAGS);
    if (n > 0) {
      d.pending = n;
      flush(c, d);
      if (c.closed || d.pending > 0 || n < pipeBytes) return;
      continue;
    }
    if (n === 0) {
      d.eof = true;
      return flush(c, d);
    }
    const e = errno();
    if (e === C.EAGAIN) break;
    if (e === C.EINTR) continue;
    return fail(c, d.side, e);
  }
  if (d.pending === 0) releasePipe(d);
}

/** A socket failed: a reset is passed on as a reset, other errors as a close. */
function fail(c: Conn, side: 0 | 1, e: number): void {
  if (c.closed) return;
  const other = c.fd[1 - side];
  if (e === C.ECONNRESET && other >= 0) libc!.setsockopt(other, C.SOL_SOCKET, C.SO_LINGER, linger, 8);
  finish(c);
}

function finish(c: Conn): void {
  if (c.closed) return;
  c.closed = true;
  // closing the last reference removes the sockets from the epoll set
  libc!.close(c.fd[0]);
  if (c.fd[1] >= 0) libc!.close(c.fd[1]);
  if (c.dialing) dialing.delete(c);
  for (const d of c.out) releasePipe(d);
  byId.delete(c.id);
  slots[c.slot] = null;
  releasedSlots.push(c.slot);
  reports.push(Report.Closed, c.id, 0);
}

function onEvent(c: Conn, side: 0 | 1, e: number): void {
  if (c.dialing) {
    // only the backend side is registered while dialling: writable means the connect ended
    // (a failed connect also raises EPOLLERR: only then is SO_ERROR worth a syscall)
    if (side === 0 || !(e & (C.EPOLLOUT | C.EPOLLERR | C.EPOLLHUP))) return;
    if (!(e & (C.EPOLLERR | C.EPOLLHUP))) return connected(c);
    libc!.getsockopt(c.fd[1], C.SOL_SOCKET, C.SO_ERROR, intBuf, intLen);
    return dialFailed(c, intBuf.readInt32LE(0) || C.ECONNREFUSED);
  }
  if (e & C.EPOLLERR) {
    libc!.getsockopt(c.fd[side], C.SOL_SOCKET, C.SO_ERROR, intBuf, intLen);
    const err = intBuf.readInt32LE(0);
    if (err !== 0) return fail(c, side, err);
  }
  if (e & (C.EPOLLIN | C.EPOLLHUP)) pump(c, c.out[side]);
  if (c.closed) return;
  if (e & (C.EPOLLOUT | C.EPOLLHUP)) flush(c, c.out[1 - side]);
  if (c.closed) return;
  if (c.out[0].shut && c.out[1].shut) return finish(c);
  updateMask(c, 0);
  updateMask(c, 1);
}

let running = true;
function command(op: Op, at: number): void {
  if (op === Op.Dial) dial(at);
  else if (op === Op.Add) add(ring[at + 1], ring[at + 2], ring[at + 3]);
  else if (op === Op.Close || op === Op.Reset) {
    const c = byId.get(ring[at + 1]);
    if (!c) return;
    if (op === Op.Reset) libc!.setsockopt(c.fd[0], C.SOL_SOCKET, C.SO_LINGER, linger, 8);
    finish(c);
  } else if (op === Op.Stop) {
    for (const c of [...byId.values()]) finish(c);
    running = false;
  }
}

// Only now may the main thread hand over connections (engine.ts waits for this).
parentPort!.postMessage('ready');
try {
  loop();
} finally {
  // what ended before a failure is reported, so that main never closes a descriptor twice
  if (reports.length > 0) parentPort!.postMessage(reports);
}

function loop(): void {
  while (running) {
    // commands pushed while we were busy are taken now, without a wake-up
    if (setSleeping(ring, true)) drain(ring, command);
    // level-triggered: bytes already waiting on new connections show at once; the timeout is a
    // safety net (commands are read at least once a second even if a wake-up were lost)
    const timeout = dialing.size > 0 ? Math.max(0, Math.min(1000, nextDeadline - Date.now())) : 1000;
    const n = libc!.epoll_wait(epfd, events, MAX_EVENTS, timeout);
    setSleeping(ring, false);
    if (n === 0) drain(ring, command);
    if (n < 0) {
      if (errno() === C.EINTR) continue;
      throw new Error(`splice pump: epoll_wait failed, errno ${errno()}`);
    }
    for (let i = 0; i < n && running; i++) {
      const at = i * C.EPOLL_EVENT_SIZE;
      const key = events.readUInt32LE(at + C.EPOLL_DATA_OFFSET);
      const e = events.readUInt32LE(at);
      if (key === WAKE) {
        libc!.read(wakeFd, eightBytes, 8);
        drain(ring, command);
        continue;
      }
      const c = slots[key >>> 1];
      if (c && !c.closed) onEvent(c, (key & 1) as 0 | 1, e);
    }
    if (releasedSlots.length > 0) {
      for (const s of releasedSlots) freeSlots.push(s);
      releasedSlots = [];
    }
    if (dialing.size > 0 && Date.now() >= nextDeadline) expireDials();
    if (reports.length > 0) {
      parentPort!.postMessage(reports);
      reports = [];
    }
  }
  for (let i = 0; i < freePipes.length; i++) libc!.close(freePipes[i]);
  libc!.close(epfd);
}
