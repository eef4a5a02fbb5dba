// maglev: Google's consistent hashing (Eisenbud et al., NSDI 2016). Each backend has a
// permutation of a prime-sized lookup table, derived from two hashes of its name (offset,
// skip); backends take turns claiming their next preferred free slot until the table is full.
// A client IP hashes to a slot. When one of N backends leaves, only its own slots and a small
// fraction of the others change hands, so about 1/N of clients move.
// Table size: the smallest listed prime at least 1000 × N, at most 65,537. The paper's
// M ≥ 100 × N balances load; the larger ratio also keeps the flows that move when a backend
// leaves near 1/N (measured: 1.0–1.3 × 1/N up to 50 backends, where 100 × N gives up to 1.7 ×),
// while a small Service does not pay for 65,537 slots. The table grows with the set but
// never shrinks: a new size would remap every client, which is what maglev exists to avoid.
import { fnv1a } from './hash.js';
import { never, type Backend, type Flow, type Scheduler, type Skip } from './types.js';

export const MAGLEV_PRIMES = [1021, 2039, 4093, 8191, 16381, 32749, 65537] as const;

export function maglevTableSize(backends: number): number {
  for (const p of MAGLEV_PRIMES) if (p >= 1000 * backends) return p;
  return MAGLEV_PRIMES[MAGLEV_PRIMES.length - 1];
}

/** The lookup table: slot → index into backends (sorted by id, so the set alone decides it). */
export function maglevTable(ids: readonly string[], size: number): Int32Array {
  const table = new Int32Array(size).fill(-1);
  const n = ids.length;
  if (n === 0) return table;
  const offset = ids.map((id) => fnv1a(id, 0x9747b28c) % size);
  const skip = ids.map((id) => (fnv1a(id, 0x5bd1e995) % (size - 1)) + 1);
  const next = new Array<number>(n).fill(0);
  let filled = 0;
  for (;;) {
    for (let i = 0; i < n; i++) {
      let c = (offset[i] + next[i] * skip[i]) % size;
      while (table[c] >= 0) {
        next[i]++;
        c = (offset[i] + next[i] * skip[i]) % size;
      }
      table[c] = i;
      next[i]++;
      if (++filled === size) return table;
    }
  }
}

export class Maglev implements Scheduler {
  readonly name = 'maglev' as const;
  private backends: readonly Backend[] = [];
  private table: Int32Array = new Int32Array(0);

  setBackends(backends: readonly Backend[]): void {
    const usable = backends.filter((b) => b.weight > 0);
    if (usable.length === this.backends.length && usable.every((b, i) => b.id === this.backends[i].id)) {
      this.backends = usable; // same set, new objects: the table stays
      return;
    }
    this.backends = usable;
    this.table = maglevTable(
      usable.map((b) => b.id),
      Math.max(this.table.length, maglevTableSize(usable.length)),
    );
  }

  pick(flow: Flow, skip: Skip = never): Backend | null {
    const n = this.backends.length;
    if (n === 0) return null;
    const size = this.table.length;
    const h = fnv1a(flow.clientIP) % size;
    // the slot's owner, else walk on: the next slots belong to the other backends in turn
    for (let off = 0; off < size; off++) {
      const b = this.backends[this.table[(h + off) % size]];
      if (!skip(b)) return b;
    }
    return null;
  }
}
