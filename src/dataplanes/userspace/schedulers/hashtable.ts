// sh and dh: IPVS's source- and destination-hashing schedulers. Both fill a table of 256
// buckets with the backends in turn (a backend of weight w takes w consecutive turns) and
// hash an address into it, so the same address always reaches the same backend while the
// set is unchanged. (Unlike maglev, a change of the set reshuffles most buckets: that is
// IPVS's documented behaviour.) When the hashed backend cannot be used, the next buckets are
// tried in order, as IPVS's "sh-fallback" flag does; kproxy always falls back, because its
// retries rely on it.
import { foldAddress, hash32 } from './hash.js';
import { never, type Backend, type Flow, type Scheduler, type Skip } from './types.js';

const TAB_BITS = 8;
const TAB_SIZE = 1 << TAB_BITS;

abstract class HashTable implements Scheduler {
  abstract readonly name: 'sh' | 'dh';
  private table: Backend[] = [];

  protected abstract key(flow: Flow): string;

  setBackends(backends: readonly Backend[]): void {
    const usable = backends.filter((b) => b.weight > 0);
    this.table = [];
    if (usable.length === 0) return;
    let i = 0;
    let turns = 0;
    for (let bucket = 0; bucket < TAB_SIZE; bucket++) {
      this.table.push(usable[i]);
      if (++turns >= usable[i].weight) {
        turns = 0;
        i = (i + 1) % usable.length;
      }
    }
  }

  pick(flow: Flow, skip: Skip = never): Backend | null {
    if (this.table.length === 0) return null;
    const h = hash32(foldAddress(this.key(flow)), TAB_BITS);
    for (let off = 0; off < TAB_SIZE; off++) {
      const b = this.table[(h + off) % TAB_SIZE];
      if (!skip(b)) return b;
    }
    return null;
  }
}

export class SourceHashing extends HashTable {
  readonly name = 'sh' as const;
  protected key(flow: Flow): string {
    return flow.clientIP;
  }
}

/** dh hashes the address the client connected to: the ClusterIP, a node IP, an external IP. */
export class DestinationHashing extends HashTable {
  readonly name = 'dh' as const;
  protected key(flow: Flow): string {
    return flow.destIP;
  }
}
