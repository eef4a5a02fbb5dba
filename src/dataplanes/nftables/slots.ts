// Slot ranges in the global `endpoints` / `endpoint-chains` maps. A service port with N > 1
// endpoints owns N consecutive integer keys starting at its offset, and its chain picks one
// with `numgen random mod N offset <offset>`. One global map keyed by slot replaces
// upstream's anonymous `numgen … vmap { … }` per service, which loads superlinearly.
//
// Ranges come in power-of-two capacities (at least 8) so that an endpoint count that moves
// within the capacity keeps its offset, and a partial sync rewrites only its own slots.
export class SlotAllocator {
  private next = 0;
  private readonly free = new Map<number, number[]>();
  private readonly owned = new Map<string, { offset: number; capacity: number }>();

  /** The offset of owner's range, (re)allocated to hold n slots. */
  take(owner: string, n: number): number {
    const cur = this.owned.get(owner);
    if (cur && cur.capacity >= n) return cur.offset;
    if (cur) this.release(owner);
    let capacity = 8;
    while (capacity < n) capacity *= 2;
    const offset = this.free.get(capacity)?.pop() ?? this.bump(capacity);
    this.owned.set(owner, { offset, capacity });
    return offset;
  }

  release(owner: string): void {
    const cur = this.owned.get(owner);
    if (!cur) return;
    this.owned.delete(owner);
    let list = this.free.get(cur.capacity);
    if (!list) this.free.set(cur.capacity, (list = []));
    list.push(cur.offset);
  }

  private bump(capacity: number): number {
    const offset = this.next;
    this.next += capacity;
    if (this.next > 0xffffffff) throw new Error('nftables: endpoint slot space exhausted (more than 2^32 slots)');
    return offset;
  }
}
