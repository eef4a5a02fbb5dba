// A large ruleset text as a few flat strings (iptables for `kproxy rules` and `/rules`: 32 MB at
// 10,000 Services). The text arrives as many small pieces (chain names, rules, element keys
// and values, mostly strings that exist already); they are gathered a few hundred at a time
// into one flat string, a "run" of some kilobytes, and runs into chunks once there are enough
// of them. Why runs: the young-generation collector copies every string still referenced when
// it runs, and with thousands of pieces waiting per builder about half of what a sync
// allocated survived each scavenge. Short runs keep few pieces waiting, and a run is one flat
// string, cheap to copy. (ByteText, src/util/byte-text.ts, builds bytes instead and copies
// each piece straight into its Buffers.)

const PIECES_PER_RUN = 256;
const PIECES_PER_CHUNK = 8192;

export class TextBuilder {
  /**
   * `piecesPerChunk`: about how many pieces go into one chunk. Larger chunks (some 100 kB
   * and more) go to V8's large-object space, which the young-generation collector never
   * copies: worth it for a text kept until the end of a long sync.
   */
  constructor(piecesPerChunk = PIECES_PER_CHUNK) {
    this.runsPerChunk = Math.max(1, Math.round(piecesPerChunk / PIECES_PER_RUN));
  }

  /** Lines ended so far. */
  lines = 0;
  /** Pieces waiting for the next run: one array for the builder's life, not one per run. */
  private readonly pieces: string[] = Array.from({ length: PIECES_PER_RUN }, () => '');
  private waiting = 0;
  private readonly runsPerChunk: number;
  private runs: string[] = [];
  private chunks: string[] = [];

  /** Appends a piece of a line. */
  add(piece: string): void {
    this.pieces[this.waiting++] = piece;
    if (this.waiting === PIECES_PER_RUN) this.sealRun();
  }

  /** Appends a piece and ends the line. */
  end(piece: string): void {
    this.add(piece);
    this.add('\n');
    this.lines++;
  }

  /** The text so far as a few flat chunks; the builder is empty afterwards. */
  take(): string[] {
    this.sealRun();
    this.sealChunk();
    const out = this.chunks;
    this.chunks = [];
    return out;
  }

  /** Joins the waiting pieces into one run; nothing waits afterwards. */
  private sealRun(): void {
    if (this.waiting === 0) return;
    const n = this.waiting;
    const run = n === PIECES_PER_RUN ? this.pieces.join('') : this.pieces.slice(0, n).join('');
    this.pieces.fill('', 0, n); // the array keeps no piece alive
    this.waiting = 0;
    this.runs.push(run);
    if (this.runs.length >= this.runsPerChunk) this.sealChunk();
  }

  private sealChunk(): void {
    if (this.runs.length === 0) return;
    this.chunks.push(this.runs.length === 1 ? this.runs[0] : this.runs.join(''));
    this.runs = [];
  }
}
