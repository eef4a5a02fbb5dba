// libc through koffi (an FFI that ships prebuilt: no native build step), for the few places
// that call Linux directly: the nftables netlink writer, the userspace splice path (and DNS's
// recvmmsg through it), layer-2 announcement and bpf(2). Loaded once per thread, on first use;
// each caller binds the functions it needs from their C declarations.
import { createRequire } from 'node:module';
import type { LibraryHandle } from 'koffi';

export interface KoffiLibc {
  koffi: typeof import('koffi');
  /** libc.so.6: `lib.func('int close(int)')` binds one function. */
  lib: LibraryHandle;
}

/** koffi or libc cannot be had here; the message says why ('not Linux', or koffi's reason). */
export class LibcUnavailable extends Error {}

let loaded: KoffiLibc | undefined;

/** koffi and libc, or throws LibcUnavailable. */
export function koffiLibc(): KoffiLibc {
  if (loaded) return loaded;
  if (process.platform !== 'linux') throw new LibcUnavailable('not Linux');
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    loaded = { koffi, lib: koffi.load('libc.so.6') };
  } catch (e) {
    throw new LibcUnavailable(`koffi: ${(e as Error).message}`);
  }
  return loaded;
}
