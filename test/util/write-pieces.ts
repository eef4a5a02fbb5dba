// Feeds a text builder (ByteText, TextBuilder) n pieces, every third one
// ending a line, and gives back the text they make: what the builder must hold.
export function writePieces(b: { add(piece: string): void; end(piece: string): void }, n: number, pieceOf: (i: number) => string): string {
  const expected: string[] = [];
  for (let i = 0; i < n; i++) {
    const piece = pieceOf(i);
    if (i % 3 === 2) {
      b.end(piece);
      expected.push(piece, '\n');
    } else {
      b.add(piece);
      expected.push(piece);
    }
  }
  return expected.join('');
}
