// The fast path: positive answers already prepared, found without building a string.
//
// The question name is hashed while its bytes are read (ASCII letters folded to lower case),
// together with the query type; a hit is confirmed by comparing the bytes, so a hash
// collision can only cost a miss, never a wrong answer. Misses take the ordinary path
// (string key, zone lookup), which fills this cache. Any change to the zone empties it.
import type { Prepared } from './answer.js';

interface Fast {
  /** Lower-case wire form of the question name. */
  name: Uint8Array;
  qtype: number;
  prepared: Prepared;
  /** The next entry with the same hash. */
  next: Fast | null;
}

/** Most distinct (name, type) pairs kept: bounds memory under random-name floods. */
const MAX_ENTRIES = 200_000;

export class FastPath {
  private readonly table = new Map<number, Fast>();
  private count = 0;

  /** Hash of the lower-cased name at msg[12, 12 + nameLength) and the type: FNV-1a, 32 bits. */
  static hash(msg: Uint8Array, nameLength: number, qtype: number): number {
    let h = 0x811c9dc5;
    const end = 12 + nameLength;
    for (let i = 12; i < end; i++) {
      let b = msg[i];
      if (b >= 65 && b <= 90) b |= 0x20;
      h = Math.imul(h ^ b, 0x01000193);
    }
    h = Math.imul(h ^ (qtype >> 8), 0x01000193);
    return Math.imul(h ^ (qtype & 255), 0x01000193) | 0;
  }

  get(msg: Uint8Array, nameLength: number, qtype: number, hash: number): Prepared | null {
    for (let f = this.table.get(hash) ?? null; f !== null; f = f.next) {
      if (f.qtype === qtype && sameName(f.name, msg, nameLength)) return f.prepared;
    }
    return null;
  }

  add(msg: Uint8Array, nameLength: number, qtype: number, hash: number, prepared: Prepared): void {
    if (this.count >= MAX_ENTRIES) return;
    const name = new Uint8Array(nameLength);
    for (let i = 0; i < nameLength; i++) {
      const b = msg[12 + i];
      name[i] = b >= 65 && b <= 90 ? b | 0x20 : b;
    }
    this.table.set(hash, { name, qtype, prepared, next: this.table.get(hash) ?? null });
    this.count++;
  }

  clear(): void {
    this.table.clear();
    this.count = 0;
  }
}

function sameName(lower: Uint8Array, msg: Uint8Array, nameLength: number): boolean {
  if (lower.length !== nameLength) return false;
  for (let i = 0; i < nameLength; i++) {
    let b = msg[12 + i];
    if (b >= 65 && b <= 90) b |= 0x20;
    if (b !== lower[i]) return false;
  }
  return true;
}
