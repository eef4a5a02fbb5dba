// Commands from the proxy's main thread to the pump thread, in a ring of Int32 slots in
// shared memory: handing over a connection costs a few stores and one eventfd write, no
// message serialisation. One writer (main), one reader (pump).
export const RING_SLOTS = 8192; // a power of two: counters wrap safely
/** Int32 words per command: the op and up to nine arguments (a dial's address takes six). */
export const SLOT_WORDS = 10;
const HEAD = 0; // next slot main writes (only main stores it)
const TAIL = 1; // next slot the pump reads (only the pump stores it)
const SLEEPING = 2; // 1 while the pump is (about to be) blocked in epoll_wait: only then is a wake-up needed
const BASE = 4;

export const enum Op {
  /** [id, fd of the client side, fd of the backend side]: copy between them until both ends close. */
  Add = 1,
  /** [id]: close both sockets now (a removed Service's grace period is over). */
  Close = 2,
  /** close every connection and end the thread. */
  Stop = 3,
  /**
   * [id, fd of the client side, timeout ms, port, family (4|6), address words (big-endian) ×4]:
   * dial the backend from the pump thread and copy once connected. The pump reports the dial's
   * outcome; an id it already holds (a failed dial) is dialled again with the new address.
   */
  Dial = 4,
  /** [id]: close the connection with a reset to the client (every dial failed). */
  Reset = 5,
}

export function newRing(): Int32Array {
  return new Int32Array(new SharedArrayBuffer((BASE + RING_SLOTS * SLOT_WORDS) * 4));
}

/**
 * Whether the pump must be woken after a push. The pump sets the flag and then looks at the
 * ring once more before it blocks; main stores the head and then reads the flag: with
 * sequentially consistent atomics one of the two always sees the other's store, so no
 * command is left unseen (and the pump's 1 s timeout is a further safety net).
 */
export function needsWake(ring: Int32Array): boolean {
  return Atomics.load(ring, SLEEPING) === 1;
}

/** Pump thread: about to block (true) or awake (false). Returns whether commands are waiting. */
export function setSleeping(ring: Int32Array, sleeping: boolean): boolean {
  Atomics.store(ring, SLEEPING, sleeping ? 1 : 0);
  return Atomics.load(ring, HEAD) !== Atomics.load(ring, TAIL);
}

/** Main thread: false when the ring is full (the caller copies in JavaScript instead). */
export function push(ring: Int32Array, op: Op, a = 0, b = 0, c = 0): boolean {
  const at = reserve(ring);
  if (at < 0) return false;
  ring[at] = op;
  ring[at + 1] = a;
  ring[at + 2] = b;
  ring[at + 3] = c;
  publish(ring);
  return true;
}

/** Main thread: the index of the next free slot (fill ring[at .. at + SLOT_WORDS), then publish), or -1 when full. */
export function reserve(ring: Int32Array): number {
  const head = Atomics.load(ring, HEAD);
  if (((head - Atomics.load(ring, TAIL)) | 0) >= RING_SLOTS) return -1;
  return BASE + (head & (RING_SLOTS - 1)) * SLOT_WORDS;
}

/** Main thread: makes the slot filled after reserve() visible to the pump. */
export function publish(ring: Int32Array): void {
  const head = Atomics.load(ring, HEAD);
  Atomics.store(ring, HEAD, (head + 1) | 0); // publishes the slot (sequentially consistent store)
}

/** Pump thread: calls `each` for every command written so far, with the index of its op in `ring` (arguments follow). */
export function drain(ring: Int32Array, each: (op: Op, at: number) => void): void {
  let tail = Atomics.load(ring, TAIL);
  const head = Atomics.load(ring, HEAD);
  while (tail !== head) {
    const at = BASE + (tail & (RING_SLOTS - 1)) * SLOT_WORDS;
    each(ring[at] as Op, at);
    tail = (tail + 1) | 0;
    Atomics.store(ring, TAIL, tail);
  }
}
