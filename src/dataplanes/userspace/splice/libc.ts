// The few libc calls the splice path needs, through koffi (no native build step). Loaded on
// first use; `loadLibc()` returns null where koffi or these calls are unavailable (not Linux,
// koffi missing), and the proxy then copies in JavaScript.
import { koffiLibc, LibcUnavailable } from '../../../util/libc.js';

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Buffer, len: number): number;
  splice(fdIn: number, offIn: null, fdOut: number, offOut: null, len: number, flags: number): number;
  pipe2(fds: Int32Array, flags: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  close(fd: number): number;
  shutdown(fd: number, how: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Int32Array): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Buffer | null): number;
  epoll_wait(epfd: number, events: Buffer, max: number, timeoutMs: number): number;
  eventfd(initval: number, flags: number): number;
  read(fd: number, buf: Buffer, len: number): number;
  write(fd: number, buf: Buffer, len: number): number;
  recvmmsg(fd: number, msgs: Buffer, vlen: number, flags: number, timeout: null): number;
  sendmmsg(fd: number, msgs: Buffer, vlen: number, flags: number): number;
  /** errno of the last call on this thread. */
  errno(): number;
  /** The address of a Buffer's bytes, for pointers inside structures. */
  address(b: Buffer): bigint;
}

// Linux constants (the same on x86_64 and arm64).
export const EAGAIN = 11;
export const EINTR = 4;
export const ECONNRESET = 104;
export const ECONNREFUSED = 111;
export const ETIMEDOUT = 110;
export const EINPROGRESS = 115;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const IPPROTO_TCP = 6;
export const TCP_NODELAY = 1;
export const SPLICE_F_MOVE = 1;
export const SPLICE_F_NONBLOCK = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const F_DUPFD_CLOEXEC = 1030;
export const F_SETPIPE_SZ = 1031;
export const F_GETPIPE_SZ = 1032;
export const SHUT_WR = 1;
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_LINGER = 13;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLET = 0x80000000;
export const EFD_NONBLOCK = O_NONBLOCK;
export const MSG_DONTWAIT = 0x40;
/** struct epoll_event is packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
export const EPOLL_DATA_OFFSET = process.arch === 'x64' ? 4 : 8;

let cached: Libc | null | undefined;

/** The bindings, or null (with the reason in `libcUnavailable`) where they cannot be had. */
export function loadLibc(): Libc | null {
  if (cached !== undefined) return cached;
  cached = null;
  try {
    const { koffi, lib } = koffiLibc();
    const f = (sig: string) => lib.func(sig);
    cached = {
      socket: f('int socket(int, int, int)') as Libc['socket'],
      connect: f('int connect(int, void *, uint)') as Libc['connect'],
      splice: f('int splice(int, void *, int, void *, size_t, uint)') as Libc['splice'],
      pipe2: f('int pipe2(void *, int)') as Libc['pipe2'],
      fcntl: f('int fcntl(int, int, int)') as Libc['fcntl'],
      close: f('int close(int)') as Libc['close'],
      shutdown: f('int shutdown(int, int)') as Libc['shutdown'],
      setsockopt: f('int setsockopt(int, int, int, void *, uint)') as Libc['setsockopt'],
      getsockopt: f('int getsockopt(int, int, int, void *, void *)') as Libc['getsockopt'],
      epoll_create1: f('int epoll_create1(int)') as Libc['epoll_create1'],
      epoll_ctl: f('int epoll_ctl(int, int, int, void *)') as Libc['epoll_ctl'],
      epoll_wait: f('int epoll_wait(int, void *, int, int)') as Libc['epoll_wait'],
      eventfd: f('int eventfd(uint, int)') as Libc['eventfd'],
      read: f('intptr_t read(int, void *, size_t)') as Libc['read'],
      write: f('intptr_t write(int, void *, size_t)') as Libc['write'],
      recvmmsg: f('int recvmmsg(int, void *, uint, int, void *)') as Libc['recvmmsg'],
      sendmmsg: f('int sendmmsg(int, void *, uint, int)') as Libc['sendmmsg'],
      errno: () => koffi.errno(),
      address: (b: Buffer) => koffi.address(b),
    };
  } catch (e) {
    libcUnavailable = e instanceof LibcUnavailable ? e.message : `koffi: ${(e as Error).message}`;
  }
  return cached;
}

export let libcUnavailable = '';
