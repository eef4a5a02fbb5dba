// Raw packet sockets (AF_PACKET, SOCK_RAW) through koffi, the FFI library kproxy already
// uses for bpf(2). Node has no packet sockets, and the alternatives are worse: a helper
// binary (arping/ndsend) per announcement cannot answer requests, a native addon needs a
// compiler at install time, and libpcap bindings bring a C dependency for four syscalls.
// koffi ships prebuilt for linux-x64/arm64 and calls libc directly: socket, bind,
// setsockopt, poll, recvfrom, sendto, close. Every call here is non-blocking except poll,
// which runs in the responder's own worker thread (worker.ts), never on the main thread.
import { koffiLibc, type KoffiLibc } from '../../util/libc.js';
import { ETH_P_ARP, ETH_P_IPV6 } from './packets.js';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;
const SOL_PACKET = 263;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_MR_ALLMULTI = 2;
const POLLIN = 1;
export const PACKET_OUTGOING = 4;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  poll(fds: Buffer, n: number, timeoutMs: number): number;
  recvfrom(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: Buffer): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  close(fd: number): number;
  errno(): number;
}

let libc: Libc | null = null;

/** Loads libc through koffi; throws with a readable reason when koffi is unavailable. */
function load(): Libc {
  if (libc) return libc;
  let k: KoffiLibc;
  try {
    k = koffiLibc();
  } catch (e) {
    throw new Error(`layer-2 announcement needs the koffi package (npm install koffi): ${(e as Error).message}`);
  }
  const { koffi, lib } = k;
  libc = {
    socket: lib.func('int socket(int, int, int)'),
    bind: lib.func('int bind(int, void *, uint32_t)'),
    setsockopt: lib.func('int setsockopt(int, int, int, void *, uint32_t)'),
    poll: lib.func('int poll(void *, unsigned long, int)'),
    recvfrom: lib.func('long recvfrom(int, void *, unsigned long, int, void *, void *)'),
    sendto: lib.func('long sendto(int, void *, unsigned long, int, void *, uint32_t)'),
    close: lib.func('int close(int)'),
    errno: () => koffi.errno(),
  };
  return libc;
}

const htons = (v: number) => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

/** struct sockaddr_ll for an interface and protocol (20 bytes). */
function sockaddrLL(ifindex: number, protocol: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16LE(htons(protocol), 2);
  b.writeInt32LE(ifindex, 4);
  return b;
}

// Classic BPF filter for the IPv6 socket: keep only ICMPv6 neighbour solicitations with no
// extension headers (ethertype 0x86dd, next header 58, ICMPv6 type 135). Without it every
// IPv6 frame of the node would be copied to user space.
function ndFilter(): Buffer {
  const insns: [number, number, number, number][] = [
    [0x28, 0, 0, 12], // ldh [12]        ethertype
    [0x15, 0, 5, ETH_P_IPV6], // jeq #0x86dd
    [0x30, 0, 0, 20], // ldb [20]        IPv6 next header
    [0x15, 0, 3, 58], // jeq #58 (ICMPv6)
    [0x30, 0, 0, 54], // ldb [54]        ICMPv6 type
    [0x15, 0, 1, 135], // jeq #135 (neighbour solicitation)
    [0x06, 0, 0, 0x40000], // ret #262144  keep
    [0x06, 0, 0, 0], // ret #0            drop
  ];
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}

export interface Received {
  frame: Buffer;
  ifindex: number;
  pktType: number;
}

/** One packet socket bound to a protocol on every interface. */
export class PacketSocket {
  /** The BPF program: kept referenced for the socket's lifetime. */
  private filter: Buffer | null = null;
  private constructor(
    private readonly c: Libc,
    readonly fd: number,
    readonly protocol: number,
  ) {}

  static open(protocol: typeof ETH_P_ARP | typeof ETH_P_IPV6): PacketSocket {
    const c = load();
    const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(protocol));
    if (fd < 0) throw new Error(`socket(AF_PACKET) failed: errno ${c.errno()} (needs CAP_NET_RAW)`);
    const s = new PacketSocket(c, fd, protocol);
    if (protocol === ETH_P_IPV6) {
      const insns = ndFilter();
      const prog = Buffer.alloc(16);
      prog.writeUInt16LE(insns.length / 8, 0);
      prog.writeBigUInt64LE(koffiLibc().koffi.address(insns), 8);
      if (c.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, 16) < 0) {
        const errno = c.errno();
        c.close(fd);
        throw new Error(`SO_ATTACH_FILTER failed: errno ${errno}`);
      }
      s.filter = insns;
    }
    if (c.bind(fd, sockaddrLL(0, protocol), 20) < 0) {
      const errno = c.errno();
      c.close(fd);
      throw new Error(`bind(AF_PACKET) failed: errno ${errno}`);
    }
    return s;
  }

  /** Receive all multicast on an interface (solicited-node addresses of every LB IP). */
  allMulticast(ifindex: number): void {
    const mreq = Buffer.alloc(16);
    mreq.writeInt32LE(ifindex, 0);
    mreq.writeUInt16LE(PACKET_MR_ALLMULTI, 4);
    this.c.setsockopt(this.fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 16);
  }

  /** The next waiting frame, or null when none is waiting. */
  receive(buf: Buffer): Received | null {
    const from = Buffer.alloc(20);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(20, 0);
    const n = this.c.recvfrom(this.fd, buf, buf.length, 0, from, len);
    if (n < 0) return null;
    return { frame: Buffer.from(buf.subarray(0, Number(n))), ifindex: from.readInt32LE(4), pktType: from[10] };
  }

  send(ifindex: number, frame: Buffer): boolean {
    return this.c.sendto(this.fd, frame, frame.length, 0, sockaddrLL(ifindex, this.protocol), 20) === frame.length;
  }

  close(): void {
    this.c.close(this.fd);
  }

  /** Waits until one of the sockets has a frame, or timeoutMs passes. */
  static wait(sockets: readonly PacketSocket[], timeoutMs: number): void {
    if (sockets.length === 0) return;
    const fds = Buffer.alloc(8 * sockets.length);
    sockets.forEach((s, i) => {
      fds.writeInt32LE(s.fd, i * 8);
      fds.writeInt16LE(POLLIN, i * 8 + 4);
    });
    sockets[0].c.poll(fds, sockets.length, timeoutMs);
  }
}
