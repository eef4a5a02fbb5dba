import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  beginFingerprint,
  endFingerprint,
  fingerprintArrayStart,
  fingerprintKey,
  fingerprintNumber,
  fingerprintObjectEnd,
  fingerprintObjectStart,
  fingerprintOf,
  FingerprintPlan,
  fingerprintPlanned,
  fingerprintString,
} from '../../src/util/fingerprint.js';

test('equal JSON, equal fingerprint: fresh copies, JSON rules for undefined, -0 and non-finite numbers', () => {
  const o = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'web', 'x/y': '' } }, spec: { n: [1, 2.5, -3, true, null, { a: [] }] } };
  assert.equal(fingerprintOf(o), fingerprintOf(JSON.parse(JSON.stringify(o))));
  assert.equal(fingerprintOf({ a: 1, b: undefined, c: () => 1 }), fingerprintOf({ a: 1 }));
  assert.equal(fingerprintOf([undefined, NaN, Infinity]), fingerprintOf([null, null, null]));
  assert.equal(fingerprintOf(-0), fingerprintOf(0));
  assert.ok(Number.isSafeInteger(fingerprintOf(o)) && fingerprintOf(o) >= 0);
});

test('what JSON tells apart, the fingerprint tells apart', () => {
  const differ: [unknown, unknown][] = [
    [{ a: 'bc' }, { ab: 'c' }],
    [
      { a: 1, b: 2 },
      { b: 2, a: 1 },
    ], // key order counts, as in JSON
    [['a'], 'a'],
    [1, '1'],
    [true, 'true'],
    [null, 'null'],
    [{}, []],
    [[[]], [[], []]],
    [{ a: { b: 1 } }, { a: {}, b: 1 }],
    [
      ['ab', 'c'],
      ['a', 'bc'],
    ],
    ['', null],
    [0.1 + 0.2, 0.3],
    ['x\u0000', 'x'],
    ['\u00e9', 'e\u0301'],
    ['abc', 'abd'],
    ['abcd', 'abc'],
  ];
  for (const [a, b] of differ) assert.notEqual(fingerprintOf(a), fingerprintOf(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
});

test('generated objects: fingerprints agree with JSON equality, and near-copies (one change each) all differ', () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  const gen = (depth: number): unknown => {
    const k = rnd(depth > 3 ? 4 : 6);
    if (k === 0) return rnd(1000) - 500;
    if (k === 1) return ['web', 'db', '10.0.0.1', '', 'http', 'x'.repeat(rnd(40))][rnd(6)];
    if (k === 2) return [true, false, null][rnd(3)];
    if (k === 3) return rnd(3) === 0 ? 1.5 : 'value-' + rnd(50);
    if (k === 4) return Array.from({ length: rnd(4) }, () => gen(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = rnd(5); i > 0; i--) o[['name', 'labels', 'ports', 'app', 'a', 'spec'][rnd(6)] + rnd(3)] = gen(depth + 1);
    return o;
  };
  const seen = new Map<number, string>(); // fingerprint -> JSON
  for (let i = 0; i < 3000; i++) {
    const v = gen(0);
    const json = JSON.stringify(v);
    const fp = fingerprintOf(v);
    const before = seen.get(fp);
    if (before !== undefined) assert.equal(before, json, 'two different values gave the same fingerprint');
    seen.set(fp, json);
    assert.equal(fingerprintOf(JSON.parse(json)), fp);
  }
  // One string edited in a Pod-like object: every edit is seen.
  const pod = (s: string) => ({ kind: 'Pod', metadata: { name: 'pod-1', labels: { app: s } }, status: { podIP: '10.0.0.1' } });
  const prints = new Set<number>();
  for (let i = 0; i < 5000; i++) prints.add(fingerprintOf(pod(`app-${i}`)));
  assert.equal(prints.size, 5000);
});

test('nesting: a string 1,000 levels down is fingerprinted, one level deeper is refused, in arrays and in objects', () => {
  const nested = (levels: number, inObject: boolean): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < levels; i++) v = inObject ? { k: v } : [v];
    return v;
  };
  for (const inObject of [false, true]) {
    assert.equal(typeof fingerprintOf(nested(1000, inObject)), 'number');
    assert.throws(() => fingerprintOf(nested(1001, inObject)), RangeError);
  }
});

test('the streamed form (fast-pod.ts) and a plan of its constant part give exactly fingerprintOf', () => {
  let seed = 11;
  const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  // What a manifest reader streams: objects, arrays, strings (odd lengths, non-ASCII) and numbers.
  const gen = (depth: number): unknown => {
    const k = rnd(depth > 3 ? 3 : 5);
    if (k === 0) return [0, 1, 8080, 65535, 2 ** 31 - 1, 1.5, -3][rnd(7)];
    if (k === 1 || k === 2) return ['', 'a', 'web', '10.0.0.1', 'fd00::1', 'é', '😀x', 'x'.repeat(rnd(40))][rnd(8)];
    if (k === 3) return Array.from({ length: rnd(4) }, () => gen(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = rnd(5); i > 0; i--) o[['name', 'labels', 'ports', 'app', 'a', 'spec', 'x/y.z'][rnd(7)] + rnd(3)] = gen(depth + 1);
    return o;
  };
  /** Feeds v as fast-pod.ts does: values straight to the stream, structure and keys to `plan` when given. */
  const feed = (v: unknown, plan: FingerprintPlan | null, slots: (() => void)[]): void => {
    const value = (f: () => void) => {
      if (!plan) return f();
      slots.push(f);
      plan.words.push(NaN); // where the value goes: a cut (see below)
    };
    if (typeof v === 'string') return value(() => fingerprintString(`<${v}>`, 1, v.length + 1));
    if (typeof v === 'number') return value(() => fingerprintNumber(v));
    if (Array.isArray(v)) {
      if (plan) plan.arrayStart(v.length);
      else fingerprintArrayStart(v.length);
      for (const x of v) feed(x, plan, slots);
      return;
    }
    if (plan) plan.objectStart();
    else fingerprintObjectStart();
    for (const [k, x] of Object.entries(v as object)) {
      if (plan) plan.key(`(${k})`, 1, k.length + 1);
      else fingerprintKey(`(${k})`, 1, k.length + 1);
      feed(x, plan, slots);
    }
    if (plan) plan.objectEnd();
    else fingerprintObjectEnd();
  };
  for (let i = 0; i < 2000; i++) {
    const v = gen(0);
    beginFingerprint();
    feed(v, null, []);
    assert.equal(endFingerprint(), fingerprintOf(v), JSON.stringify(v));
    // The plan: its words with a NaN where each value goes, fed piece by piece between values.
    const plan = new FingerprintPlan();
    const slots: (() => void)[] = [];
    feed(v, plan, slots);
    const cuts = plan.words.flatMap((w, j) => (Number.isNaN(w) ? [j] : []));
    const words = Int32Array.from(plan.words.map((w) => (Number.isNaN(w) ? 0 : w)));
    beginFingerprint();
    let from = 0;
    cuts.forEach((cut, j) => {
      fingerprintPlanned(words, from, cut);
      slots[j]();
      from = cut + 1;
    });
    fingerprintPlanned(words, from, words.length);
    assert.equal(endFingerprint(), fingerprintOf(v), `planned: ${JSON.stringify(v)}`);
  }
});
