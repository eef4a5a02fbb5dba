// A resident nf_tables element writer: one netfilter netlink socket for the life of the
// process, through which the partial syncs that only add and delete set and map elements go
// straight to the kernel — no nft process, no parse, no cache of the whole table (nft
// re-reads every chain of the table before each command: ~25–50 ms at 10,000 Services).
//
// Atomicity: the whole batch (BEGIN … END) goes out in one send(), so it reaches the kernel
// as one message buffer; nfnetlink applies it as one transaction, in the sender's context,
// before send() returns. A kproxy killed before send() changed nothing; after it, everything.
// Every message asks for an acknowledgement: all of them must come back as 0, else the
// kernel has aborted the whole batch and the error is thrown (the applier then replaces the
// tables on the next sync).
import { loadLibc, type NetlinkLibc } from './libc.js';
import type { ElementOp } from '../elements.js';
import { BatchBuilder, NLMSG_ERROR } from './encode.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_NETFILTER = 12;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;

/**
 * Batches above this size go through nft instead (a netlink socket refuses a message larger
 * than its send buffer, 208 KiB by default; a partial sync this large is rare).
 */
export const MAX_BATCH_BYTES = 192 * 1024;

export class NetlinkError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
    this.name = 'NetlinkError';
  }
}

export class ElementWriter {
  private seq = Math.floor(Date.now() / 1000) & 0x3fffffff;
  private readonly recvBuf = Buffer.alloc(64 * 1024);

  private constructor(
    private readonly libc: NetlinkLibc,
    private fd: number,
  ) {}

  /** The writer, or the reason there is none (no koffi, no libc, no netlink socket). */
  static open(): ElementWriter | string {
    const libc = loadLibc();
    if (typeof libc === 'string') return libc;
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) return `netlink socket: errno ${libc.errno()}`;
    const addr = Buffer.alloc(12);
    addr.writeUInt16LE(AF_NETLINK, 0);
    if (libc.bind(fd, addr, addr.length) < 0) {
      const errno = libc.errno();
      libc.close(fd);
      return `netlink bind: errno ${errno}`;
    }
    const size = Buffer.alloc(4);
    size.writeInt32LE(1 << 20, 0);
    libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4); // room for every acknowledgement
    return new ElementWriter(libc, fd);
  }

  /** The batch for these ops, or null when one of them cannot be encoded or it is too large. */
  encode(table: string, ops: readonly ElementOp[]): { buffer: Buffer; described: Map<number, string> } | null {
    const b = new BatchBuilder(this.seq);
    try {
      for (const op of ops) b.op(table, op);
    } catch {
      return null;
    }
    const { buffer, lastSeq } = b.finish();
    this.seq = (lastSeq + 1) & 0x3fffffff;
    if (buffer.length > MAX_BATCH_BYTES) return null;
    return { buffer, described: b.described };
  }

  /** Sends one encoded batch and waits for its verdict; throws NetlinkError when the kernel refused it. */
  commit(batch: { buffer: Buffer; described: Map<number, string> }): void {
    if (this.fd < 0) throw new NetlinkError('netlink writer is closed', 0);
    this.drain(); // nothing stale may be taken for this batch's answers
    const { buffer, described } = batch;
    let sent: number;
    do sent = this.libc.send(this.fd, buffer, buffer.length, 0);
    while (sent < 0 && this.libc.errno() === EINTR);
    if (sent !== buffer.length) throw new NetlinkError(`netlink send: ${sent < 0 ? `errno ${this.libc.errno()}` : `short write ${sent}/${buffer.length}`}`, sent < 0 ? this.libc.errno() : 0);
    // nfnetlink has processed the batch by now: every answer is already queued.
    const pending = new Set(described.keys());
    let firstError: NetlinkError | null = null;
    for (const msg of this.drain()) {
      if (msg.type !== NLMSG_ERROR) continue;
      const code = msg.body.readInt32LE(0);
      const seq = msg.body.length >= 20 ? msg.body.readUInt32LE(4 + 8) : -1;
      pending.delete(seq);
      if (code !== 0 && !firstError) firstError = new NetlinkError(`${described.get(seq) ?? 'nf_tables batch'}: ${errnoText(-code)}`, -code);
    }
    if (firstError) throw firstError;
    if (pending.size > 0) throw new NetlinkError(`nf_tables batch: ${pending.size} of ${described.size} messages were not acknowledged`, 0);
  }

  close(): void {
    if (this.fd >= 0) this.libc.close(this.fd);
    this.fd = -1;
  }

  /** Every message waiting on the socket, without blocking. */
  private drain(): { type: number; body: Buffer }[] {
    const out: { type: number; body: Buffer }[] = [];
    for (;;) {
      const n = this.libc.recv(this.fd, this.recvBuf, this.recvBuf.length, MSG_DONTWAIT);
      if (n < 0) {
        const errno = this.libc.errno();
        if (errno === EINTR) continue;
        if (errno === EAGAIN) return out;
        throw new NetlinkError(`netlink recv: ${errnoText(errno)}`, errno);
      }
      if (n === 0) return out;
      let off = 0;
      while (off + 16 <= n) {
        const len = this.recvBuf.readUInt32LE(off);
        if (len < 16 || off + len > n) break;
        out.push({ type: this.recvBuf.readUInt16LE(off + 4), body: Buffer.from(this.recvBuf.subarray(off + 16, off + len)) });
        off += (len + 3) & ~3;
      }
    }
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'Operation not permitted',
  2: 'No such file or directory',
  12: 'Cannot allocate memory',
  16: 'Device or resource busy',
  17: 'File exists',
  22: 'Invalid argument',
  28: 'No space left on device',
  34: 'Numerical result out of range',
  95: 'Operation not supported',
  105: 'No buffer space available',
};

function errnoText(errno: number): string {
  return `${ERRNO_NAMES[errno] ?? 'error'} (errno ${errno})`;
}
