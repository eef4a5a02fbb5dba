// Which file descriptors the pump thread holds, in shared memory: one byte per descriptor
// number. If the thread dies (a bug, an out-of-memory kill of the thread, terminate()), the
// main thread closes exactly these, so that the backend sockets the pump dialled, its pipes
// and the client sockets it was given do not stay open until the process exits.
//
// Main marks a client descriptor before handing it over; the pump marks what it opens right
// after opening it, and unmarks a descriptor right before closing it. A descriptor number is
// therefore never marked while it could belong to someone else; a thread killed between the
// two steps leaks at most that one descriptor. Pages of the table are touched only for the
// descriptor numbers in use, so its size costs address space, not memory.
import { fdLimits } from '../../../util/fdlimit.js';

/** Descriptor numbers at or above this are not tracked (they are not expected: see size()). */
export function newOwnedTable(): Uint8Array {
  // the hard limit bounds every descriptor number the process can get
  const hard = fdLimits()?.hard ?? 1 << 20;
  return new Uint8Array(new SharedArrayBuffer(Math.min(hard, 1 << 24)));
}

export function own(t: Uint8Array, fd: number): void {
  if (fd >= 0 && fd < t.length) Atomics.store(t, fd, 1);
}

export function disown(t: Uint8Array, fd: number): void {
  if (fd >= 0 && fd < t.length) Atomics.store(t, fd, 0);
}

/** Every descriptor still marked (main, after the thread has ended). */
export function ownedFds(t: Uint8Array): number[] {
  const out: number[] = [];
  for (let fd = 0; fd < t.length; fd++) if (t[fd] === 1) out.push(fd);
  return out;
}
