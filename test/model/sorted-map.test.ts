import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SortedMap } from '../../src/model/sorted-map.js';

// A small deterministic generator, so that a failure names a reproducible sequence.
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const sortedEntries = (m: ReadonlyMap<string, number>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

describe('SortedMap', () => {
  it('behaves as a Map under random sets and deletes, iterating in key order', () => {
    const rnd = lcg(7);
    let map = SortedMap.empty<number>();
    const ref = new Map<string, number>();
    for (let round = 0; round < 60; round++) {
      const d = map.edit();
      const ops = 1 + Math.floor(rnd() * (round < 20 ? 400 : 60));
      for (let i = 0; i < ops; i++) {
        const k = `k${Math.floor(rnd() * 3000)}`;
        if (rnd() < (round < 30 ? 0.3 : 0.7)) {
          assert.equal(d.delete(k), ref.delete(k), `delete ${k}`);
        } else {
          const v = Math.floor(rnd() * 1e6);
          d.set(k, v);
          ref.set(k, v);
        }
        assert.equal(d.size, ref.size);
      }
      map = d.finish();
      assert.equal(map.size, ref.size);
      assert.deepEqual([...map], sortedEntries(ref));
      assert.deepEqual(
        [...map.keys()],
        sortedEntries(ref).map(([k]) => k),
      );
      for (const k of ['k0', 'k1', 'k999', 'k2999', 'nope', '']) {
        assert.equal(map.get(k), ref.get(k), k);
        assert.equal(map.has(k), ref.has(k), k);
      }
    }
  });

  it('never changes a finished version: later edits copy what they touch', () => {
    const d = SortedMap.empty<number>().edit();
    for (let i = 0; i < 1000; i++) d.set(`k${String(i).padStart(4, '0')}`, i);
    const v1 = d.finish();
    const before = [...v1];
    d.set('k0500', -1);
    d.delete('k0001');
    d.set('k9999', 9);
    const v2 = d.finish();
    assert.deepEqual([...v1], before);
    assert.equal(v1.get('k0500'), 500);
    assert.equal(v2.get('k0500'), -1);
    assert.equal(v2.has('k0001'), false);
    assert.equal(v2.size, 1000);
    const v3 = v2.edit();
    for (let i = 0; i < 1000; i++) v3.delete(`k${String(i).padStart(4, '0')}`);
    const empty = v3.finish();
    assert.equal(empty.size, 1);
    assert.deepEqual([...empty], [['k9999', 9]]);
    assert.equal(v2.size, 1000);
    assert.equal(v1.get('k0001'), 1);
  });

  it('is a ReadonlyMap to its readers (forEach, values, spread into a Map)', () => {
    const m = SortedMap.from([
      ['b', 2],
      ['a', 1],
    ]);
    const seen: string[] = [];
    m.forEach((v, k, self) => {
      assert.equal(self, m);
      seen.push(`${k}=${v}`);
    });
    assert.deepEqual(seen, ['a=1', 'b=2']);
    assert.deepEqual([...m.values()], [1, 2]);
    assert.deepEqual(
      new Map(m),
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
  });
});
