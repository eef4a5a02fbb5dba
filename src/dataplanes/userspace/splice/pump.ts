// The pump thread: copies the bytes of handed-over TCP connections with splice(2), from one
// socket into a pipe and from the pipe into the other socket, so they never enter JavaScript
// memory. It runs its own epoll loop, blocking in epoll_wait; the main
// thread hands over connections through a shared ring (ring.ts) and wakes it with an eventfd.
// Pipes are pooled and held only while bytes are in flight, so an idle connection costs its
// two sockets and a small object here.
//
// A connection arrives either as a connected pair (Op.Add: Node dialled the backend) or as an
// accepted client alone (Op.Dial): the pump then dials the backend itself with a nonblocking
// connect and reports the outcome, so that main never builds a Node socket for it; main keeps
// choosing the backend and deciding retries (a failed dial is dialled again on main's word).
//
// Each socket is registered once, edge-triggered, for reading and writing, and stays so for
// its life (its close removes it): two epoll_ctl per connection, where level-triggered
// interest had to follow every direction's state. Edge-triggered means every edge must be
// used up: a direction reads until EAGAIN (or is queued in `again` to go on next turn), and a
// direction stopped by a full destination resumes reading when that destination drains.
//
// Semantics are those of the JavaScript copy loop (tcp.ts): a FIN is passed on as a FIN
// (shutdown(SHUT_WR)) once everything before it has been delivered; a reset on one side
// resets the other; the connection ends when both directions have ended.
import { parentPort, workerData } from 'node:worker_threads';
import * as C from './libc.js';
import { drain, Op, setSleeping } from './ring.js';
import { disown, own } from './owned.js';

interface Setup {
  ring: Int32Array;
  /** Descriptors this thread holds (owned.ts): main closes them if the thread dies. */
  owned: Uint8Array;
  wakeFd: number;
  pipeBytes: number;
}

const libc = C.loadLibc();
if (!libc) throw new Error(`splice pump: ${C.libcUnavailable}`);
const { ring, owned, wakeFd, pipeBytes } = workerData as Setup;
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
  closed = false;
  /** Events of the client while its backend was dialled (read it once connected). */
  clientEvents = 0;
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
own(owned, epfd);

/** close(2) of a descriptor this thread holds: unmarked first (owned.ts). */
function closeFd(fd: number): void {
  disown(owned, fd);
  libc!.close(fd);
}
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
/** Interest of every connection socket, for its whole life. */
const INTEREST = C.EPOLLIN | C.EPOLLOUT | C.EPOLLRDHUP | C.EPOLLET;
/** Directions that stopped reading before EAGAIN (fairness): they go on next loop turn. */
let again: [Conn, Dir][] = [];
/** Page size: x86_64 has 4 KiB pages; elsewhere assume the largest (64 KiB) to stay safe. */
const PAGE = process.arch === 'x64' ? 4096 : 65536;
/**
 * The fewest buffers any of our pipes has. A pipe buffer holds at least one byte, so a read of
 * fewer bytes than that cannot have filled the pipe: it emptied the socket (see pump()).
 */
let pipeSlots = Math.max(1, Math.floor(pipeBytes / PAGE));
const READABLE = C.EPOLLIN | C.EPOLLRDHUP | C.EPOLLHUP | C.EPOLLERR;
/** An event mask that says nothing: read until EAGAIN. */
const UNKNOWN = -1;

function ctl(op: number, fd: number, mask: number, key: number): number {
  ev.writeUInt32LE(mask >>> 0, 0); // (EPOLLET is the sign bit of an int32)
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

/** Registers a connection socket for its life; false (and the connection failed) if epoll refused. */
function register(c: Conn, side: 0 | 1): boolean {
  if (ctl(C.EPOLL_CTL_ADD, c.fd[side], INTEREST, c.slot * 2 + side) === 0) return true;
  const e = errno();
  if (process.env.KPROXY_SPLICE_DEBUG) console.error('epoll_ctl', c.fd[side], e);
  if (side === 1 && c.dialing) dialFailed(c, e);
  else fail(c, side, e);
  return false;
}

function add(id: number, client: number, backend: number): void {
  const c = newConn(id, client, backend);
  if (!register(c, 0) || !register(c, 1)) return;
  // bytes either side sent before the hand-over are waiting already: no edge will tell
  pump(c, c.out[0], UNKNOWN);
  if (!c.closed) pump(c, c.out[1], UNKNOWN);
  if (!c.closed) settle(c);
}

/** Op.Dial: a new connection (its client's descriptor) or a new attempt for one whose dial failed. */
function dial(at: number): void {
  const id = ring[at + 1];
  let c = byId.get(id);
  if (!c) {
    c = newConn(id, ring[at + 2], -1); // (TCP_NODELAY: inherited from the listening socket, see tcp.ts)
    if (!register(c, 0)) return;
  } else if (c.dialing || c.fd[1] >= 0) return; // main asks again only after a failure
  const family = ring[at + 5] === 6 ? C.AF_INET6 : C.AF_INET;
  const fd = libc!.socket(family, C.SOCK_STREAM | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0);
  if (fd < 0) return dialFailed(c, errno());
  own(owned, fd);
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
  const e = r === 0 ? 0 : errno();
  if (r !== 0 && e !== C.EINPROGRESS) return dialFailed(c, e);
  // registered only now: an unconnected socket polls as hung up. A connect that ends before
  // the registration is reported by it (epoll looks at the socket's state when it is added).
  c.dialing = true;
  if (!register(c, 1)) return;
  if (r === 0) return connected(c, 0);
  c.deadline = Date.now() + ring[at + 3];
  if (dialing.size === 0 || c.deadline < nextDeadline) nextDeadline = c.deadline;
  dialing.add(c);
}

/** The backend answered: report it, and read what either side has sent meanwhile (`e`: the backend's event). */
function connected(c: Conn, e: number): void {
  c.dialing = false;
  dialing.delete(c);
  reports.push(Report.Connected, c.id, 0);
  if (c.clientEvents !== 0) pump(c, c.out[0], c.clientEvents);
  if (!c.closed && e & READABLE) pump(c, c.out[1], e);
  if (!c.closed) settle(c);
}

/** The dial failed or timed out: the backend socket goes, the client waits for main's next word (Dial again or Reset). */
function dialFailed(c: Conn, e: number): void {
  c.dialing = false;
  dialing.delete(c);
  if (c.fd[1] >= 0) closeFd(c.fd[1]); // also leaves the epoll set
  c.fd[1] = c.out[0].dst = c.out[1].src = -1;
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
  own(owned, d.pipeR);
  own(owned, d.pipeW);
  // a bigger pipe means fewer syscalls per megabyte; the kernel may cap it (not fatal)
  if (pipeBytes > 65536) libc!.fcntl(d.pipeW, C.F_SETPIPE_SZ, pipeBytes);
  const size = libc!.fcntl(d.pipeW, C.F_GETPIPE_SZ, 0); // pooled: rare
  pipeSlots = Math.min(pipeSlots, size > 0 ? Math.floor(size / PAGE) : 1);
  return true;
}

function releasePipe(d: Dir): void {
  if (d.pipeR < 0) return;
  if (d.pending === 0 && freePipes.length < 128) freePipes.push(d.pipeR, d.pipeW);
  else {
    closeFd(d.pipeR);
    closeFd(d.pipeW);
  }
  d.pipeR = d.pipeW = -1;
}

/**
 * Writes what waits in the pipe; passes the FIN on once everything before it is out. Returns
 * true when the pipe was emptied (the destination took everything).
 */
function flush(c: Conn, d: Dir): boolean {
  while (d.pending > 0) {
    const m = splice(d.pipeR, null, d.dst, null, d.pending, FLAGS);
    if (m > 0) {
      d.pending -= m;
      continue;
    }
    const e = errno();
    if (e === C.EAGAIN) return false;
    if (e === C.EINTR) continue;
    fail(c, (1 - d.side) as 0 | 1, e);
    return false;
  }
  if (d.eof && !d.shut) {
    d.shut = true;
    // the last direction to end needs no shutdown: both sockets are closed next (settle), and
    // a close with nothing left unread sends the same FIN after what is still queued
    if (!c.out[1 - d.side].shut) libc!.shutdown(d.dst, C.SHUT_WR);
  }
  releasePipe(d);
  return true;
}

/**
 * Reads src into the pipe and writes it on, until src has nothing more (the next edge will
 * tell), dst is full (its writable edge resumes this), or this turn's share is used (queued in
 * `again`). `e` is the event that woke us: after a short read that cannot have filled the pipe,
 * and with no FIN or error in the event, src is empty without a further read that would only
 * say EAGAIN (data or a FIN arriving after the event raise a new edge).
 */
function pump(c: Conn, d: Dir, e: number): void {
  if (d.eof || d.pending > 0) return;
  for (let i = 0; i < READS_PER_EVENT; i++) {
    if (d.pipeW < 0 && !takePipe(d)) return fail(c, d.side, errno());
    const n = splice(d.src, null, d.pipeW, null, pipeBytes, FLAGS);
    if (n > 0) {
      d.pending = n;
      flush(c, d);
      if (c.closed || d.pending > 0) return;
      if (n < pipeSlots && e !== UNKNOWN && !(e & (C.EPOLLRDHUP | C.EPOLLHUP | C.EPOLLERR))) return releasePipe(d);
      continue;
    }
    if (n === 0) {
      d.eof = true;
      flush(c, d);
      return;
    }
    const err = errno();
    if (err === C.EAGAIN) return releasePipe(d);
    if (err === C.EINTR) continue;
    return fail(c, d.side, err);
  }
  // the share of this turn is used and src may hold more: go on after the other connections
  releasePipe(d);
  again.push([c, d]);
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
  closeFd(c.fd[0]);
  if (c.fd[1] >= 0) closeFd(c.fd[1]);
  if (c.dialing) dialing.delete(c);
  for (const d of c.out) releasePipe(d);
  byId.delete(c.id);
  slots[c.slot] = null;
  releasedSlots.push(c.slot);
  reports.push(Report.Closed, c.id, 0);
}

/** Both directions have ended: the connection is over. */
function settle(c: Conn): void {
  if (c.out[0].shut && c.out[1].shut) finish(c);
}

function onEvent(c: Conn, side: 0 | 1, e: number): void {
  // Dialling, or between a failed dial and main's next word (Dial again or Reset): there is
  // no backend to copy to yet.
  if (c.dialing || c.fd[1] < 0) {
    if (side === 0) {
      // the client sent something (or went) before its backend answered: read it once connected
      c.clientEvents |= e & READABLE;
      return;
    }
    if (!c.dialing) return;
    // writable means the connect ended (a failed one also raises EPOLLERR: only then is
    // SO_ERROR worth a syscall)
    if (!(e & (C.EPOLLOUT | C.EPOLLERR | C.EPOLLHUP))) return;
    if (!(e & (C.EPOLLERR | C.EPOLLHUP))) return connected(c, e);
    libc!.getsockopt(c.fd[1], C.SOL_SOCKET, C.SO_ERROR, intBuf, intLen);
    return dialFailed(c, intBuf.readInt32LE(0) || C.ECONNREFUSED);
  }
  if (e & C.EPOLLERR) {
    libc!.getsockopt(c.fd[side], C.SOL_SOCKET, C.SO_ERROR, intBuf, intLen);
    const err = intBuf.readInt32LE(0);
    if (err !== 0) return fail(c, side, err);
  }
  if (e & READABLE) pump(c, c.out[side], e);
  if (c.closed) return;
  // this side can take bytes again: what waited for it goes, and its source reads on
  const toHere = c.out[1 - side];
  if (e & (C.EPOLLOUT | C.EPOLLHUP) && toHere.pending > 0 && flush(c, toHere) && !c.closed) pump(c, toHere, UNKNOWN);
  if (!c.closed) settle(c);
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
    // the timeout is a safety net (commands are read at least once a second even if a wake-up
    // were lost); directions left to go on (`again`) do not wait at all
    const timeout = again.length > 0 ? 0 : dialing.size > 0 ? Math.max(0, Math.min(1000, nextDeadline - Date.now())) : 1000;
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
    if (again.length > 0) {
      const turn = again;
      again = [];
      for (const [c, d] of turn) {
        if (c.closed) continue;
        pump(c, d, UNKNOWN);
        if (!c.closed) settle(c);
      }
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
  for (let i = 0; i < freePipes.length; i++) closeFd(freePipes[i]);
  closeFd(epfd);
}
