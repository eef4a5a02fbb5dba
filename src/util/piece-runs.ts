// The front end of TextBuilder (a large text held as strings; ByteText, for bytes, copies
// each piece straight into its Buffers instead): a ruleset text arrives as many small pieces (chain names, rules, element keys and values,
// mostly strings that exist already), and they are gathered a few hundred at a time into one
// flat string, a "run" of some kilobytes, before the builder stores it its own way. Why runs:
// the young-generation collector copies every string still referenced when it runs, and with
// thousands of pieces waiting per builder about half of what a sync allocated survived each
// scavenge. Short runs keep few pieces waiting, and a run is one flat string, cheap to copy
// or to encode in one native call.

export const PIECES_PER_RUN = 256;

export abstract class PieceRuns {
  /** Pieces waiting for the next run: one array for the builder's life, not one per run. */
  private readonly pieces: string[] = Array.from({ length: PIECES_PER_RUN }, () => '');
  private waiting = 0;
  /** Lines ended so far. */
  lines = 0;

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

  /** Where a run goes: the one thing the builders do differently. */
  protected abstract keepRun(run: string): void;

  /** Joins the waiting pieces into one run and hands it to keepRun; nothing waits afterwards. */
  protected sealRun(): void {
    if (this.waiting === 0) return;
    const n = this.waiting;
    const run = n === PIECES_PER_RUN ? this.pieces.join('') : this.pieces.slice(0, n).join('');
    this.pieces.fill('', 0, n); // the array keeps no piece alive
    this.waiting = 0;
    this.keepRun(run);
  }
}
