// The libc calls a netfilter netlink socket needs, through koffi (no native build step).
// Loaded on first use; `loadLibc()` returns the reason as a string where koffi or libc is
// not there, and the nftables applier then writes every sync with the nft binary.
import { koffiLibc, LibcUnavailable } from '../../../util/libc.js';

export interface NetlinkLibc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
  /** errno of the last call on this thread. */
  errno(): number;
}

let cached: NetlinkLibc | string | undefined;

export function loadLibc(): NetlinkLibc | string {
  if (cached !== undefined) return cached;
  try {
    const { koffi, lib } = koffiLibc();
    const f = (sig: string) => lib.func(sig);
    cached = {
      socket: f('int socket(int, int, int)') as NetlinkLibc['socket'],
      bind: f('int bind(int, void *, uint)') as NetlinkLibc['bind'],
      setsockopt: f('int setsockopt(int, int, int, void *, uint)') as NetlinkLibc['setsockopt'],
      send: f('intptr_t send(int, void *, size_t, int)') as NetlinkLibc['send'],
      recv: f('intptr_t recv(int, void *, size_t, int)') as NetlinkLibc['recv'],
      close: f('int close(int)') as NetlinkLibc['close'],
      errno: () => koffi.errno(),
    };
  } catch (e) {
    cached = e instanceof LibcUnavailable ? e.message : `koffi: ${(e as Error).message}`;
  }
  return cached;
}
