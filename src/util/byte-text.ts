// A large text built straight into its UTF-8 bytes, outside the JavaScript heap: the nftables
// full sync's 8 MB script at 10,000 Services. Held as JS strings until it was written out,
// that text was most of what the young-generation collector copied (and then promoted) on
// each of a sync's scavenges; in Buffers, the collector sees a few small Buffer objects.
// Each piece is copied into the current slab as it comes, by a plain loop over its
// characters: ASCII (all of an nft script but its comments, in practice) is one byte per
// character. No string is made on the way: gathering pieces into runs with
// Array.prototype.join first (as before) allocated about twice the text per sync (join's own
// buffer of pieces, then the run), and a native write per piece costs more than the loop. A
// piece with a non-ASCII character has the rest of it encoded by Buffer#write. Bytes are
// exactly what writing the same strings as UTF-8 gives (a file written with fs
// `write(string)`): a string's UTF-8 is its ASCII head's bytes followed by its tail's, and
// the tail starts at a whole character (a surrogate pair is never split).

import type { SlabArena } from './slab-arena.js';

const FIRST_SLAB = 16 * 1024;
const MAX_SLAB = 1024 * 1024;
const NEWLINE = 10;

export interface ByteTextOptions {
  /** Where slabs come from (reused across syncs); without one, fresh Buffers. */
  arena?: SlabArena;
  /** About how many bytes the text will have: the first slab's size (a text known to be large
   *  then lands in one slab instead of growing through many). */
  sizeHint?: number;
}

export class ByteText {
  private readonly arena: SlabArena | undefined;
  /** Lines ended so far. */
  lines = 0;

  constructor(options: ByteTextOptions = {}) {
    this.arena = options.arena;
    if (options.sizeHint !== undefined) this.nextSlab = Math.max(FIRST_SLAB, options.sizeHint);
  }

  private slab: Buffer | null = null;
  private used = 0;
  /** The next slab's size: small builders (a set with a few elements) stay small. */
  private nextSlab = FIRST_SLAB;
  private done: Buffer[] = [];

  /** Appends a piece of a line. */
  add(piece: string): void {
    const n = piece.length;
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8, so the piece fits whole
    // (Buffer#write would stop at the end of the slab and leave the rest unwritten).
    if (this.slab === null || this.slab.length - this.used < n * 3) this.newSlab(n * 3);
    const slab = this.slab!;
    let at = this.used;
    for (let i = 0; i < n; i++) {
      const c = piece.charCodeAt(i);
      if (c > 0x7f) {
        at += slab.write(i === 0 ? piece : piece.slice(i), at, 'utf8');
        break;
      }
      slab[at++] = c;
    }
    this.used = at;
  }

  /** Appends a piece and ends the line. */
  end(piece: string): void {
    this.add(piece);
    if (this.slab!.length === this.used) this.newSlab(1);
    this.slab![this.used++] = NEWLINE;
    this.lines++;
  }

  /** Appends bytes written elsewhere (whole lines, `lines` of them); they are not copied. */
  append(bytes: readonly Uint8Array[], lines: number): void {
    this.sealSlab();
    for (const b of bytes) if (b.length > 0) this.done.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    this.lines += lines;
  }

  /** The bytes so far, in order, as a few Buffers; the builder is empty afterwards. */
  take(): Buffer[] {
    this.sealSlab();
    const out = this.done;
    this.done = [];
    return out;
  }

  /** A slab with room for at least `most` bytes. */
  private newSlab(most: number): void {
    this.sealSlab();
    const size = Math.max(this.nextSlab, most);
    this.slab = this.arena ? this.arena.slab(size) : Buffer.allocUnsafeSlow(size);
    this.nextSlab = Math.min(this.nextSlab * 2, MAX_SLAB);
  }

  private sealSlab(): void {
    if (this.slab === null || this.used === 0) return;
    this.done.push(this.slab.subarray(0, this.used));
    this.slab = this.slab.length - this.used >= FIRST_SLAB ? this.slab.subarray(this.used) : null;
    this.used = 0;
  }
}

/** Total bytes of a text held as segments. */
export const byteLength = (parts: readonly Uint8Array[]): number => parts.reduce((n, p) => n + p.length, 0);

/** A text held as segments (strings or UTF-8 bytes), as one string: for `kproxy rules`, error
 *  messages and tests, never on a sync's path. */
export function textOf(parts: readonly (string | Uint8Array)[]): string {
  if (parts.every((p) => typeof p === 'string')) return parts.join('');
  const bytes = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  return (bytes.length === 1 ? Buffer.from(bytes[0].buffer, bytes[0].byteOffset, bytes[0].byteLength) : Buffer.concat(bytes)).toString('utf8');
}
