import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KubeObject } from '../../../src/api/types.js';
import { packed, unpacked } from '../../../src/sources/manifests/packed.js';
import { parseManifestText } from '../../../src/sources/manifests/read.js';
import { fingerprintOf } from '../../../src/util/fingerprint.js';

/**
 * The value as plain objects (fast-check makes some with a null prototype; both forms give
 * back Object.prototype), with -0 as 0 when `zero` is set: what the JSON form gives back
 * (the structured clone keeps -0).
 */
function plain(v: unknown, zero: boolean): unknown {
  if (zero && Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map((x) => plain(x, zero));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: plain(x, zero), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

test('a packed Service manifest comes back with the same values: as JSON, or as the structured clone when JSON would lose one', () => {
  const doc = (extra: string) =>
    `apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: demo, annotations: {note: "ünïcode ✓"}}\nspec:\n  selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: 8080}]\n${extra}`;
  const cases: [string, boolean][] = [
    ['', true],
    ['  sessionAffinity: None\n  externalIPs: ["10.0.0.1"]\n', true],
    ['  weight: .nan\n', false], // NaN: JSON would write null
    ['  weight: .inf\n  other: -.inf\n', false],
    ['  label: "nullable"\n', false], // "null" in a string: the clone too (still exact)
    ['  x: ~\n', false], // a real null
  ];
  for (const [extra, asJSON] of cases) {
    const o = parseManifestText(doc(extra), 'svc.yaml').objects[0].object;
    const text = packed(o);
    assert.equal(text.startsWith('{'), asJSON, `${JSON.stringify(extra)}: kept as ${asJSON ? 'JSON' : 'the structured clone'}`);
    const back = unpacked(text);
    assert.notEqual(back, o, 'a fresh copy');
    assert.deepStrictEqual(back, o, JSON.stringify(extra));
  }
});

test('a key named __proto__ (a .json manifest may have one) stays an own key', () => {
  const o = JSON.parse('{"kind": "Service", "metadata": {"__proto__": {"x": 1}, "name": "a"}}') as KubeObject;
  const back = unpacked(packed(o));
  assert.deepStrictEqual(back, o);
  assert.equal(Object.getPrototypeOf(back.metadata), Object.prototype);
  assert.deepEqual(Object.keys(back.metadata as object), ['__proto__', 'name']);
});

test('packed() and unpacked() round-trip any JSON-like value, NaN and ±Infinity included; -0 comes back as 0 from JSON, with the same fingerprint', () => {
  const leaf = fc.oneof(fc.string({ unit: 'binary' }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom('null', '__proto__', '{', '\u00ff'));
  const value = fc.letrec((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('v'), { maxKeys: 4 })),
  })).v;
  fc.assert(
    fc.property(fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 6 }), (o) => {
      const text = packed(o as KubeObject);
      const back = unpacked(text);
      assert.deepStrictEqual(back, plain(o, text.startsWith('{')));
      assert.equal(fingerprintOf(back), fingerprintOf(o));
    }),
    { numRuns: 2000 },
  );
});

test('-0 comes back as 0 from the JSON form and as -0 from the structured clone (a null beside it, as fast-check once found)', () => {
  const viaJSON = packed({ ' ': -0 } as unknown as KubeObject);
  assert.ok(viaJSON.startsWith('{'));
  assert.ok(Object.is(unpacked(viaJSON)[' '], 0));
  const viaClone = packed({ '': { a: null }, ' ': -0 } as unknown as KubeObject);
  assert.ok(!viaClone.startsWith('{'));
  assert.ok(Object.is(unpacked(viaClone)[' '], -0));
});
