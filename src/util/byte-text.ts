// A large text built straight into its UTF-8 bytes, outside the JavaScript heap: the nftables
// full sync's 8 MB script at 10,000 Services. Held as JS strings until it was written out,
// that text was most of what the young-generation collector copied (and then promoted) on
// each of a sync's scavenges; in Buffers, the collector sees a few small Buffer objects.
// Pieces are still gathered into runs (src/util/piece-runs.ts: one native write per run is
// much cheaper than one per piece); each run is encoded into the current slab at once and dies
// young. Bytes are exactly what writing the same strings as
// UTF-8 gives (a file written with fs `write(string)`). Both kernel-table dataplanes write their
// full syncs this way: the nftables script and the iptables-restore inputs.

import { PieceRuns } from './piece-runs.js';
import type { SlabArena } from './slab-arena.js';

const FIRST_SLAB = 16 * 1024;
const MAX_SLAB = 1024 * 1024;

export interface ByteTextOptions {
  /** Where slabs come from (reused across syncs); without one, fresh Buffers. */
  arena?: SlabArena;
  /** About how many bytes the text will have: the first slab's size (a text known to be large
   *  then lands in one slab instead of growing through many). */
  sizeHint?: number;
}

export class ByteText extends PieceRuns {
  private readonly arena: SlabArena | undefined;

  constructor(options: ByteTextOptions = {}) {
    super();
    this.arena = options.arena;
    if (options.sizeHint !== undefined) this.nextSlab = Math.max(FIRST_SLAB, options.sizeHint);
  }

  private slab: Buffer | null = null;
  private used = 0;
  /** The next slab's size: small builders (a set with a few elements) stay small. */
  private nextSlab = FIRST_SLAB;
  private done: Buffer[] = [];

  /** Appends bytes written elsewhere (whole lines, `lines` of them); they are not copied. */
  append(bytes: readonly Uint8Array[], lines: number): void {
    this.sealRun();
    this.sealSlab();
    for (const b of bytes) if (b.length > 0) this.done.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    this.lines += lines;
  }

  /** The bytes so far, in order, as a few Buffers; the builder is empty afterwards. */
  take(): Buffer[] {
    this.sealRun();
    this.sealSlab();
    const out = this.done;
    this.done = [];
    return out;
  }

  protected keepRun(run: string): void {
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8, so the run fits whole
    // (utf8Write would stop at the end of the slab and leave the rest unwritten).
    const most = run.length * 3;
    if (this.slab === null || this.slab.length - this.used < most) {
      this.sealSlab();
      const size = Math.max(this.nextSlab, most);
      this.slab = this.arena ? this.arena.slab(size) : Buffer.allocUnsafeSlow(size);
      this.nextSlab = Math.min(this.nextSlab * 2, MAX_SLAB);
    }
    this.used += this.slab.write(run, this.used, 'utf8');
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
