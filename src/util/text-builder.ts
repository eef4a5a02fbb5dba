// A large ruleset text (an nft script of 8 MB at 10,000 Services, iptables-restore input of
// 3 MB at 1,000) built from its pieces without a string per line: the pieces are mostly
// strings that exist already (chain names, rules, element keys and values) and are joined a
// few thousand at a time into flat chunks. A line array of
// template literals would keep hundreds of thousands of cons strings alive until the end of
// the sync, and the young-generation collector would copy every one of them, twice.

const PIECES_PER_CHUNK = 8192;

export class TextBuilder {
  /**
   * `piecesPerChunk`: larger chunks (some 100 kB and more) go to V8's large-object space,
   * which the young-generation collector never copies: worth it for a text kept until the
   * end of a long sync.
   */
  constructor(private readonly piecesPerChunk = PIECES_PER_CHUNK) {}

  private pieces: string[] = [];
  private chunks: string[] = [];
  /** Lines ended so far. */
  lines = 0;

  /** Appends a piece of a line. */
  add(piece: string): void {
    this.pieces.push(piece);
    if (this.pieces.length >= this.piecesPerChunk) this.seal();
  }

  /** Appends a piece and ends the line. */
  end(piece: string): void {
    this.add(piece);
    this.add('\n');
    this.lines++;
  }

  /** The text so far as a few flat chunks; the builder is empty afterwards. */
  take(): string[] {
    this.seal();
    const out = this.chunks;
    this.chunks = [];
    return out;
  }

  private seal(): void {
    if (this.pieces.length === 0) return;
    this.chunks.push(this.pieces.join(''));
    this.pieces = [];
  }
}
