// A large ruleset text (an nft script of 8 MB at 10,000 Services, iptables-restore input of
// 3 MB at 1,000) built from its pieces without a string per line: the pieces are mostly
// strings that exist already (chain names, rules, element keys and values) and are joined in
// two steps. A few hundred pieces at a time become one flat run of some kilobytes; runs
// become a chunk once there are enough of them. Why two steps: the young-generation
// collector copies every string still referenced when it runs, and then promotes it. With
// thousands of pieces waiting per builder (and the nftables full sync has a builder per set)
// about half of what a sync allocated survived each scavenge, and scavenges were most of the
// sync's CPU. Short runs keep few pieces waiting; a run is one flat string, cheap to copy.

import { joinWaiting, PIECES_PER_RUN } from './byte-text.js';

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

  private readonly runsPerChunk: number;
  /** Pieces waiting for the next run: one array for the builder's life, not one per run. */
  private readonly pieces: string[] = Array.from({ length: PIECES_PER_RUN }, () => '');
  private waiting = 0;
  private runs: string[] = [];
  private chunks: string[] = [];
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

  /** The text so far as a few flat chunks; the builder is empty afterwards. */
  take(): string[] {
    this.sealRun();
    this.sealChunk();
    const out = this.chunks;
    this.chunks = [];
    return out;
  }

  private sealRun(): void {
    if (this.waiting === 0) return;
    this.runs.push(joinWaiting(this.pieces, this.waiting));
    this.waiting = 0;
    if (this.runs.length >= this.runsPerChunk) this.sealChunk();
  }

  private sealChunk(): void {
    if (this.runs.length === 0) return;
    this.chunks.push(this.runs.length === 1 ? this.runs[0] : this.runs.join(''));
    this.runs = [];
  }
}
