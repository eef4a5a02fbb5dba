// An iptables-restore input (3 MB at 1,000 Services × 10 endpoints, 30 MB at 10,000) written
// straight into byte buffers outside the JavaScript heap, ready for the restore's stdin. As a
// string it was joined from its pieces, then joined again into one flat 3 MB string, then
// encoded into a third copy when written to the pipe: three fresh copies of the whole text,
// each paid in page faults and garbage collection. Here the pieces of a few hundred lines are
// joined into one short string (cheap, young generation) that is encoded once into a buffer;
// the restore gets the buffers as they are.

/** Pieces joined into one string before it is encoded: about 10 kB of text. */
const PIECES_PER_RUN = 256;
/** Room for a run encoded as UTF-8 (3 bytes per UTF-16 unit at most) is checked with this margin. */
const MAX_BYTES_PER_UNIT = 3;

export class ByteText {
  private pieces: string[] = [];
  /** Finished segments (and buffers handed in whole), in order. */
  private parts: Uint8Array[] = [];
  private buf: Buffer;
  /** Where the next byte goes, and where the segment not yet in `parts` starts. */
  private at = 0;
  private start = 0;
  /** Lines ended so far (buffers handed in whole count through `append`'s argument). */
  lines = 0;

  /** `sizeHint`: about how many bytes the text will have (the first buffer's size). */
  constructor(sizeHint = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(sizeHint, 16 * 1024));
  }

  /** Appends a piece of a line. */
  add(piece: string): void {
    if (this.pieces.push(piece) >= PIECES_PER_RUN) this.encode();
  }

  /** Appends a piece and ends the line. */
  end(piece: string): void {
    this.add(piece);
    this.add('\n');
    this.lines++;
  }

  /** Appends bytes written elsewhere (whole lines), holding `lines` lines; they are not copied. */
  append(bytes: readonly Uint8Array[], lines: number): void {
    this.encode();
    this.seal();
    for (const b of bytes) if (b.length > 0) this.parts.push(b);
    this.lines += lines;
  }

  /** The text so far, as byte segments in order; the builder is empty afterwards. */
  take(): Uint8Array[] {
    this.encode();
    this.seal();
    const out = this.parts;
    this.parts = [];
    return out;
  }

  private encode(): void {
    if (this.pieces.length === 0) return;
    const run = this.pieces.length === 1 ? this.pieces[0] : this.pieces.join('');
    this.pieces = [];
    if (this.buf.length - this.at < run.length * MAX_BYTES_PER_UNIT) {
      // A new buffer, twice as large; what was written stays where it is (a segment of its own).
      this.seal();
      this.buf = Buffer.allocUnsafe(Math.max(this.buf.length * 2, run.length * MAX_BYTES_PER_UNIT));
      this.at = this.start = 0;
    }
    this.at += this.buf.write(run, this.at, 'utf8');
  }

  private seal(): void {
    if (this.at > this.start) this.parts.push(this.buf.subarray(this.start, this.at));
    this.start = this.at;
  }
}

/** Total bytes of an input held as segments. */
export const byteLength = (parts: readonly Uint8Array[]): number => parts.reduce((n, p) => n + p.length, 0);

/** An input held as segments, as one string (for `kproxy rules`, error messages and tests). */
export const textOf = (parts: readonly Uint8Array[]): string => (parts.length === 1 ? Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].length) : Buffer.concat(parts)).toString('utf8');
