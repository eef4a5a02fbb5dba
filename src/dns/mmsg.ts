// More than one datagram per syscall for the cluster DNS: once Node has delivered one query
// from the UDP socket (the socket is readable, so more are likely waiting), the queries still
// queued are read with one recvmmsg(2) on the socket's descriptor, answered on the same
// prepared-answer path, and the answers go out with one sendmmsg(2). Under load that is two
// syscalls per batch of up to 64 queries instead of two per query, and no per-datagram
// JavaScript objects (rinfo, Buffer) from Node's dgram layer. Where koffi or these calls are
// missing, or with $KPROXY_DNS_MMSG=off, Node's one-datagram path serves alone.
import type dgram from 'node:dgram';
import { loadLibc, MSG_DONTWAIT, type Libc } from '../dataplanes/userspace/splice/libc.js';

const BATCH = 64;
/** Bytes per query slot: the largest UDP payload, so that no datagram is cut (untouched pages cost no memory). */
const SLOT = 65536;
/** Bytes per answer slot; a longer answer is sent through Node. */
const OUT_SLOT = 4096;
const NAME = 32; // sockaddr_in6 is 28 bytes
const MSGHDR = 64; // struct mmsghdr on LP64: msghdr (56) + msg_len (4) + padding
const IOVEC = 16;
const MSG_TRUNC = 0x20;
/** recvmmsg rounds per readiness before the event loop gets its turn back. */
const ROUNDS = 4;

export type Answerer = (msg: Buffer) => Buffer | null | Promise<Buffer | null>;

export function mmsgWanted(value = process.env.KPROXY_DNS_MMSG ?? 'auto'): boolean {
  return value !== 'off' && value !== '0' && value !== 'false';
}

export class UdpBatcher {
  /** Queries read by recvmmsg (beyond the one Node delivered), for tests and metrics. */
  batched = 0;
  private readonly inBuf = Buffer.allocUnsafeSlow(BATCH * SLOT); // not zero-filled: only pages used become resident
  private readonly names = Buffer.alloc(BATCH * NAME);
  private readonly inHdrs = Buffer.alloc(BATCH * MSGHDR);
  private readonly inIovs = Buffer.alloc(BATCH * IOVEC);
  private readonly outBuf = Buffer.alloc(BATCH * OUT_SLOT);
  private readonly outHdrs = Buffer.alloc(BATCH * MSGHDR);
  private readonly outIovs = Buffer.alloc(BATCH * IOVEC);
  private draining = false;

  private constructor(
    private readonly libc: Libc,
    private readonly fd: number,
    private readonly sock: dgram.Socket,
  ) {
    const a = (b: Buffer, off: number) => libc.address(b) + BigInt(off);
    for (let i = 0; i < BATCH; i++) {
      this.inIovs.writeBigUInt64LE(a(this.inBuf, i * SLOT), i * IOVEC);
      this.inIovs.writeBigUInt64LE(BigInt(SLOT), i * IOVEC + 8);
      this.outIovs.writeBigUInt64LE(a(this.outBuf, i * OUT_SLOT), i * IOVEC);
      for (const [hdrs, iovs] of [
        [this.inHdrs, this.inIovs],
        [this.outHdrs, this.outIovs],
      ] as const) {
        const h = i * MSGHDR;
        hdrs.writeBigUInt64LE(a(this.names, i * NAME), h); // msg_name: replies go where the query came from
        hdrs.writeUInt32LE(NAME, h + 8);
        hdrs.writeBigUInt64LE(a(iovs, i * IOVEC), h + 16);
        hdrs.writeBigUInt64LE(1n, h + 24);
      }
    }
  }

  /** The socket this batcher reads. */
  get socket(): dgram.Socket {
    return this.sock;
  }

  /** A batcher for a bound UDP socket, or null where recvmmsg cannot be used. */
  static for(sock: dgram.Socket): UdpBatcher | null {
    if (!mmsgWanted() || (process.arch !== 'x64' && process.arch !== 'arm64')) return null;
    const libc = loadLibc();
    const fd = fdOf(sock);
    if (!libc || typeof fd !== 'number' || fd < 0) return null;
    return new UdpBatcher(libc, fd, sock);
  }

  /** Reads and answers what is queued now (call after Node delivered a datagram). */
  drain(answer: Answerer): void {
    if (this.draining) return; // an answer callback that re-enters (never expected) must not recurse
    this.draining = true;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const n = this.receive();
        if (n <= 0) return;
        this.batched += n;
        this.answerAll(n, answer);
        if (n < BATCH) return;
      }
    } finally {
      this.draining = false;
    }
  }

  private receive(): number {
    for (let i = 0; i < BATCH; i++) this.inHdrs.writeUInt32LE(NAME, i * MSGHDR + 8); // msg_namelen is in/out
    return this.libc.recvmmsg(this.fd, this.inHdrs, BATCH, MSG_DONTWAIT, null);
  }

  private answerAll(n: number, answer: Answerer): void {
    let out = 0;
    const outHdrs = this.outHdrs;
    for (let i = 0; i < n; i++) {
      const h = i * MSGHDR;
      const len = this.inHdrs.readUInt32LE(h + 56);
      if (this.inHdrs.readInt32LE(h + 48) & MSG_TRUNC) continue; // cannot happen with 64 KiB slots; never answer a cut query
      const msg = this.inBuf.subarray(i * SLOT, i * SLOT + len);
      const r = answer(msg);
      if (r === null) continue;
      if (!Buffer.isBuffer(r)) {
        const [port, address] = this.peer(i);
        r.then(
          (b) => b && this.sock.send(b, port, address),
          () => {},
        );
        continue;
      }
      if (r.length > OUT_SLOT) {
        const [port, address] = this.peer(i);
        this.sock.send(r, port, address);
        continue;
      }
      // answer slot `out` goes to the address of query slot `i`
      const o = out * MSGHDR;
      r.copy(this.outBuf, out * OUT_SLOT);
      this.outIovs.writeBigUInt64LE(BigInt(r.length), out * IOVEC + 8);
      outHdrs.writeBigUInt64LE(this.inHdrs.readBigUInt64LE(h), o);
      outHdrs.writeUInt32LE(this.inHdrs.readUInt32LE(h + 8), o + 8);
      out++;
    }
    let sent = 0;
    while (sent < out) {
      const m = this.libc.sendmmsg(this.fd, sent === 0 ? outHdrs : outHdrs.subarray(sent * MSGHDR), out - sent, MSG_DONTWAIT);
      if (m <= 0) break;
      sent += m;
    }
    // the send buffer was full: the rest through Node, which queues
    for (let k = sent; k < out; k++) {
      const [port, address] = this.peerAt(this.outHdrs.readBigUInt64LE(k * MSGHDR));
      const len = Number(this.outIovs.readBigUInt64LE(k * IOVEC + 8));
      this.sock.send(Buffer.from(this.outBuf.subarray(k * OUT_SLOT, k * OUT_SLOT + len)), port, address);
    }
  }

  private peer(i: number): [number, string] {
    return sockaddr(this.names, i * NAME);
  }

  private peerAt(ptr: bigint): [number, string] {
    const i = Number((ptr - this.libc.address(this.names)) / BigInt(NAME));
    return sockaddr(this.names, i * NAME);
  }
}

/** Port and address of a sockaddr_in / sockaddr_in6. */
function sockaddr(b: Buffer, off: number): [number, string] {
  const family = b.readUInt16LE(off);
  const port = b.readUInt16BE(off + 2);
  if (family === 2) return [port, `${b[off + 4]}.${b[off + 5]}.${b[off + 6]}.${b[off + 7]}`];
  const parts: string[] = [];
  for (let k = 0; k < 8; k++) parts.push(b.readUInt16BE(off + 8 + 2 * k).toString(16));
  return [port, parts.join(':')];
}

/** The descriptor of a bound dgram socket (its handle is kept under Node's "state symbol"). */
function fdOf(sock: dgram.Socket): number | undefined {
  const state = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
  const handle = state ? (sock as unknown as Record<symbol, { handle?: { fd?: number } }>)[state]?.handle : undefined;
  return handle?.fd;
}
