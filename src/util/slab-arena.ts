// Memory for the Buffers a ByteText writes into, kept from one full sync to the next. Fresh
// memory costs a page fault per 4 kB page the first time it is written (at 10,000 Services
// about 2,000 per sync, a few tens of ms of system time on a busy machine); slabs given back
// after a sync are written again by the next one without faulting. What is kept is bounded
// (SPARE_BYTES): a larger text takes fresh slabs for the rest.

const SPARE_BYTES = 16 * 1024 * 1024;
/** Larger slabs (made for one huge piece) are not kept. */
const LARGEST_KEPT = 1024 * 1024;

/** Slabs free for the next sync, by size (ByteText asks for powers of two). */
const spare = new Map<number, Buffer[]>();
let spareBytes = 0;

/**
 * The slabs one sync's text is written into. Everything lent is reused after recycle(): only
 * call it when every Buffer taken from builders that used this arena is no longer read (for a
 * full sync, once nft's input file is written and the transaction is over).
 */
export class SlabArena {
  private lent: Buffer[] = [];

  /** A slab of exactly `size` bytes. */
  slab(size: number): Buffer {
    const s = spare.get(size)?.pop();
    if (s) spareBytes -= size;
    const slab = s ?? Buffer.allocUnsafeSlow(size);
    this.lent.push(slab);
    return slab;
  }

  /** Gives every slab lent back for the next sync (up to SPARE_BYTES in all). */
  recycle(): void {
    for (const s of this.lent) {
      if (s.length > LARGEST_KEPT) continue;
      if (spareBytes + s.length > SPARE_BYTES) break;
      let list = spare.get(s.length);
      if (!list) spare.set(s.length, (list = []));
      list.push(s);
      spareBytes += s.length;
    }
    this.lent = [];
  }
}

/**
 * Forgets the slabs kept for the next full sync (their memory goes back at the next garbage
 * collection). `kproxy run` does it right after start-up and at the quiet collection after a
 * later full sync (settle-memory.ts), so a proxy whose next full sync is its periodic one
 * (30 s by default) does not hold up to 16 MB in between; that sync takes fresh pages, as the
 * first one did. Other users of the arena (benchmarks, one-shot commands) keep them until
 * they exit.
 */
export function releaseSpareSlabs(): void {
  spare.clear();
  spareBytes = 0;
}
