// SlabArena lends a slab to one arena at a time, and only what was recycled is lent again:
// a text still being read is never written over by another sync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlabArena } from '../../src/util/slab-arena.js';
import { ByteText } from '../../src/util/byte-text.js';

test('recycled slabs are lent again; slabs still lent are not', () => {
  const size = 64 * 1024;
  const first = new SlabArena();
  const a = first.slab(size);
  const other = new SlabArena();
  const b = other.slab(size);
  assert.notEqual(a.buffer, b.buffer, 'a lent slab is not lent twice');
  first.recycle();
  const again = new SlabArena().slab(size);
  assert.equal(again.buffer, a.buffer, 'a recycled slab is reused');
  assert.notEqual(new SlabArena().slab(size).buffer, a.buffer, 'and only once');
  other.recycle();
});

test('a slab made for one huge piece is not kept', () => {
  const huge = 3 * 1024 * 1024;
  const arena = new SlabArena();
  const h = arena.slab(huge);
  arena.recycle();
  assert.notEqual(new SlabArena().slab(huge).buffer, h.buffer);
});

test('texts built in recycled slabs are whole, and a text taken before stays as it was', () => {
  const build = (arena: SlabArena, tag: string) => {
    const t = new ByteText({ arena });
    for (let i = 0; i < 50000; i++) t.end(`${tag} ${i}`);
    return Buffer.concat(t.take()).toString('utf8');
  };
  const expect = (tag: string) => Array.from({ length: 50000 }, (_, i) => `${tag} ${i}\n`).join('');
  const one = new SlabArena();
  const t1 = new ByteText({ arena: one });
  for (let i = 0; i < 50000; i++) t1.end(`one ${i}`);
  const kept = t1.take();
  // Another sync meanwhile: it must not write into the slabs `kept` lives in.
  assert.equal(build(new SlabArena(), 'two'), expect('two'));
  assert.equal(Buffer.concat(kept).toString('utf8'), expect('one'));
  one.recycle();
  assert.equal(build(new SlabArena(), 'three'), expect('three'));
});
