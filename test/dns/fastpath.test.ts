// The fast path's cache: a hit needs the same name (any letter case) and type; equal hashes
// of different names are told apart by their bytes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FastPath } from '../../src/dns/fastpath.js';
import type { Prepared } from '../../src/dns/answer.js';
import { query } from './helpers.js';

const prepared = (n: number): Prepared => ({ ancount: n, nscount: 0, arcount: 0, body: Buffer.alloc(0), essential: 0 });
const nameLength = (m: Buffer) => m.indexOf(0, 12) - 11;

describe('fast path', () => {
  it('hashes names case-insensitively, with the type', () => {
    const a = query('Web.Demo.svc.cluster.local', 'A');
    const b = query('web.demo.SVC.cluster.local', 'A');
    assert.equal(FastPath.hash(a, nameLength(a), 1), FastPath.hash(b, nameLength(b), 1));
    assert.notEqual(FastPath.hash(a, nameLength(a), 1), FastPath.hash(a, nameLength(a), 28));
  });

  it('confirms a hit by the bytes: a colliding hash of another name or type is a miss', () => {
    const f = new FastPath();
    const a = query('web.demo.svc.cluster.local', 'A');
    const b = query('wEB.demo.svc.cluster.locaL', 'A');
    const other = query('api.demo.svc.cluster.local', 'A');
    f.add(a, nameLength(a), 1, 42, prepared(1));
    f.add(other, nameLength(other), 1, 42, prepared(2)); // same (forced) hash
    assert.equal(f.get(b, nameLength(b), 1, 42)?.ancount, 1);
    assert.equal(f.get(other, nameLength(other), 1, 42)?.ancount, 2);
    assert.equal(f.get(a, nameLength(a), 28, 42), null);
    assert.equal(f.get(a, nameLength(a), 1, 43), null);
    f.clear();
    assert.equal(f.get(a, nameLength(a), 1, 42), null);
  });
});
