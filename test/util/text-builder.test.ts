// TextBuilder joins pieces in runs, then runs into chunks: whatever the sizes, the chunks
// joined are exactly the pieces in order, lines are counted, and take() empties the builder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextBuilder } from '../../src/util/text-builder.js';
import { writePieces } from './write-pieces.js';

test('chunks hold the pieces in order, across run and chunk boundaries', () => {
  for (const perChunk of [1, 7, 256, 1000, 8192, 65536]) {
    const b = new TextBuilder(perChunk);
    const expected = writePieces(b, 5000, (i) => `p${i}`);
    const first = b.take();
    assert.equal(first.join(''), expected, `piecesPerChunk ${perChunk}`);
    assert.equal(b.lines, Math.floor(5000 / 3));
    if (perChunk <= 256) assert.ok(first.length > 1, 'small chunks split the text');
    if (perChunk >= 65536) assert.equal(first.length, 1);
    assert.deepEqual(b.take(), [], 'take() leaves the builder empty');
    b.end('after');
    assert.deepEqual(b.take(), ['after\n']);
  }
});
