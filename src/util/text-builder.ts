// A large ruleset text as a few flat strings (iptables for `kproxy rules` and `/rules`: 32 MB at 10,000
// Services): pieces are gathered into runs (src/util/piece-runs.ts), and runs into chunks
// once there are enough of them.

import { PieceRuns, PIECES_PER_RUN } from './piece-runs.js';

const PIECES_PER_CHUNK = 8192;

export class TextBuilder extends PieceRuns {
  /**
   * `piecesPerChunk`: about how many pieces go into one chunk. Larger chunks (some 100 kB
   * and more) go to V8's large-object space, which the young-generation collector never
   * copies: worth it for a text kept until the end of a long sync.
   */
  constructor(piecesPerChunk = PIECES_PER_CHUNK) {
    super();
    this.runsPerChunk = Math.max(1, Math.round(piecesPerChunk / PIECES_PER_RUN));
  }

  private readonly runsPerChunk: number;
  private runs: string[] = [];
  private chunks: string[] = [];

  /** The text so far as a few flat chunks; the builder is empty afterwards. */
  take(): string[] {
    this.sealRun();
    this.sealChunk();
    const out = this.chunks;
    this.chunks = [];
    return out;
  }

  protected keepRun(run: string): void {
    this.runs.push(run);
    if (this.runs.length >= this.runsPerChunk) this.sealChunk();
  }

  private sealChunk(): void {
    if (this.runs.length === 0) return;
    this.chunks.push(this.runs.length === 1 ? this.runs[0] : this.runs.join(''));
    this.runs = [];
  }
}
