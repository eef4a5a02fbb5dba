// ByteText encodes pieces into Buffers as it goes: whatever the sizes, the Buffers joined are
// exactly the UTF-8 bytes of the pieces in order (what writing the strings to a file gives),
// lines are counted, and take() hands over what is there without spoiling it later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteText } from '../../src/util/byte-text.js';
import { writePieces } from './write-pieces.js';

const bytesOf = (chunks: Buffer[]) => Buffer.concat(chunks);

test('the Buffers hold the UTF-8 bytes of the pieces in order, across runs and slabs', () => {
  const b = new ByteText();
  // Mostly ASCII, as nft scripts are; some non-ASCII pieces (two-, three- and four-byte
  // characters, and a lone surrogate, which UTF-8 writes as U+FFFD) in between.
  const expected = writePieces(b, 20000, (i) => (i % 997 === 0 ? `é€😀\ud800${i}` : `10.96.${i & 255}.${i % 7} . 80 . ${i % 10}`));
  const chunks = b.take();
  assert.ok(chunks.length > 1, 'more than one slab for ~500 kB');
  assert.ok(bytesOf(chunks).equals(Buffer.from(expected, 'utf8')));
  assert.equal(b.lines, Math.floor(20000 / 3));
  assert.deepEqual(b.take(), [], 'take() leaves the builder empty');
});

test('a piece larger than any slab is written whole', () => {
  const b = new ByteText();
  const big = 'x'.repeat(3 * 1024 * 1024) + 'ü';
  b.add('head ');
  b.end(big);
  b.end('tail');
  assert.ok(bytesOf(b.take()).equals(Buffer.from(`head ${big}\ntail\n`, 'utf8')));
});

test('Buffers already taken are not overwritten by what is added afterwards', () => {
  const b = new ByteText();
  b.end('first');
  const first = b.take(); // the rest of its slab is used for what comes next
  b.end('second');
  const second = b.take();
  assert.equal(bytesOf(first).toString('utf8'), 'first\n');
  assert.equal(bytesOf(second).toString('utf8'), 'second\n');
  for (let i = 0; i < 100000; i++) b.add('y');
  b.take();
  assert.equal(bytesOf(first).toString('utf8'), 'first\n');
  assert.equal(bytesOf(second).toString('utf8'), 'second\n');
});

test('a piece that starts in ASCII and goes on in other characters is written whole, in UTF-8', () => {
  const b = new ByteText();
  // ASCII is copied a byte per character; from the first other character on, the rest of the
  // piece is encoded at once: a pair, a lone surrogate, then ASCII again, at every position.
  const tails = ['é', '€x', '😀y', 'ab\ud800', '\udc00z', 'q😀\ud800é'];
  const expected = writePieces(b, 3000, (i) => `${'k'.repeat(i % 7)}${tails[i % tails.length]}${i}`);
  assert.ok(bytesOf(b.take()).equals(Buffer.from(expected, 'utf8')));
});
