// An adversarial fuzz of the Pod fast path (src/sources/manifests/fast-pod.ts): seeded Pod
// documents, mostly in the common shape, with small textual mutations (key order, flow and
// block forms, quoting, values YAML types differently, comments, odd indentation, duplicate
// and unknown keys, odd IPs, ...). Whenever fastPod takes a document, the general path must
// take it too and give the same id, Pod (down to frozen-ness, key order and the shared
// objects) and digest; a decline is always allowed, but the common shapes must be taken.
//
// PODFUZZ_CASES=n runs n generated documents instead of the default (PODFUZZ_SEED=s starts
// at seed s): `PODFUZZ_CASES=1000000 node scripts/run-tests.js fast-pod-fuzz`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastPod } from '../../../src/sources/manifests/fast-pod.js';
import { fingerprintOf } from '../../../src/util/fingerprint.js';
import { BASES, generate, isCutDocument, judge, oracle, quotedGrid, revalue, rng, singleEdits, slotGrid, type Accepted } from './pod-fuzz.js';

const CASES = Number(process.env.PODFUZZ_CASES ?? 4000);
const FIRST_SEED = Number(process.env.PODFUZZ_SEED ?? 1);

type Scanner = (doc: string) => Accepted | null;

interface Run {
  cases: number;
  taken: number;
  generalTakes: number;
  failures: string[];
  /** Some of the answers taken, with what they held then (see kept). */
  kept: { seed: number; got: Accepted; then: string }[];
}

/** Every generated document through the scanner and the judge. */
function run(scan: Scanner, cases: number, firstSeed = FIRST_SEED, stopAfter = 20, plain = false): Run {
  const r: Run = { cases: 0, taken: 0, generalTakes: 0, failures: [], kept: [] };
  for (let seed = firstSeed; r.cases < cases; seed++) {
    const { doc } = generate(seed, plain);
    if (!isCutDocument(doc)) continue;
    r.cases++;
    const problem = check(scan, doc, r, seed);
    if (problem) {
      r.failures.push(`seed ${seed}: ${problem}\n${JSON.stringify(doc)}\n${doc}`);
      if (r.failures.length >= stopAfter) break;
    }
  }
  // A Pod handed out must not change afterwards (a scanner that reuses its lists for the
  // next document must copy them out).
  for (const { seed, got, then } of r.kept) {
    if (JSON.stringify(got) !== then) r.failures.push(`seed ${seed}: the Pod changed after later documents:\n${then}\n${JSON.stringify(got)}`);
  }
  return r;
}

function check(scan: Scanner, doc: string, r?: Run, seed = 0): string | null {
  let got: Accepted | null;
  try {
    got = scan(doc);
  } catch (e) {
    return `the scanner threw: ${(e as Error).stack}`;
  }
  if (got !== null && r) r.taken++;
  if (got !== null && r && r.taken % 50 === 1) r.kept.push({ seed, got, then: JSON.stringify(got) });
  if (r && oracle(doc).ok) r.generalTakes++;
  const problem = judge(doc, got);
  if (problem || got === null) return problem;
  // Taken: read twice more, so that a scanner that learns layouts reads it from the one it
  // learnt from this very document (the third time at the latest).
  for (let again = 2; again <= 3; again++) {
    const next = scan(doc);
    const p = next === null ? 'declined when read again' : judge(doc, next);
    if (p) return `read the ${again === 2 ? 'second' : 'third'} time: ${p}`;
  }
  return null;
}

test('fastPod takes generated Pods only as the general path reads them, and takes a share of them', () => {
  const r = run(fastPod, CASES);
  assert.deepEqual(r.failures, [], `${r.failures.length} mismatch(es):\n\n${r.failures.join('\n\n')}`);
  console.log(`fast-pod fuzz: ${r.cases} documents, ${r.generalTakes} taken by the general path, ${r.taken} by fastPod`);
  // Without a floor, a scanner that declines everything would pass.
  assert.ok(r.taken >= r.cases * 0.05, `fastPod took only ${r.taken} of ${r.cases} documents`);
});

test('fastPod takes the plainly written Pods that the general path takes', () => {
  const r = run(fastPod, Math.min(CASES, 2000), FIRST_SEED, 20, true);
  assert.deepEqual(r.failures, [], `${r.failures.length} mismatch(es):\n\n${r.failures.join('\n\n')}`);
  // Not all: these include IPv6 addresses in odd forms (`::ffff:1.2.3.4`, `fe80::1%eth0`),
  // names like "..", which the scanner may leave to the general path.
  assert.ok(r.taken >= r.generalTakes * 0.7, `fastPod took ${r.taken} of the ${r.generalTakes} the general path takes`);
});

// Documents that once broke a scanner (see the findings file of the session that wrote this
// test): each must be declined or read exactly as the general path reads it.
const FOUND: string[] = [];

test('documents found by the fuzz stay declined or exact', () => {
  for (const doc of FOUND) assert.equal(check(fastPod, doc), null, JSON.stringify(doc));
});

// The harness itself must fail on a wrong scanner: scanners broken on purpose in ways a real
// one could be, each of which must be caught on the default run's documents.
const unquoted = (doc: string) => doc.replace(/"([^"\\\n]*)"|'([^'\n]*)'/g, (_, a: string | undefined, b: string | undefined) => a ?? b ?? '');
const fromOracle = (doc: string): Accepted | null => {
  const v = oracle(doc);
  return v.ok ? v.value : null;
};
const MUTANTS: [string, Scanner][] = [
  ['reads a quoted value as if it were plain', (doc) => fromOracle(unquoted(doc))],
  ['cuts a plain value at "#"', (doc) => fromOracle(doc.replace(/#.*$/gm, ''))],
  ['trims spaces inside quotes', (doc) => fromOracle(doc.replace(/(["'])\s+/g, '$1').replace(/\s+(["'])$/gm, '$1'))],
  [
    'drops the last of duplicate lines',
    (doc) =>
      fromOracle(
        doc
          .split('\n')
          .filter((l, i, all) => l.trim() === '' || all.indexOf(l) === i)
          .join('\n'),
      ),
  ],
  [
    'a digest that ignores key order',
    (doc) => {
      const v = oracle(doc);
      if (!v.ok) return null;
      const sorted = (x: unknown): unknown =>
        Array.isArray(x)
          ? x.map(sorted)
          : x && typeof x === 'object'
            ? Object.fromEntries(
                Object.entries(x)
                  .sort(([a], [b]) => (a < b ? -1 : 1))
                  .map(([k, y]) => [k, sorted(y)]),
              )
            : x;
      return { ...v.value, digest: fingerprintOf(sorted(v.object)) };
    },
  ],
  [
    'an ips list that is not frozen',
    (doc) => {
      const v = fromOracle(doc);
      return v && { ...v, pod: { ...v.pod, ips: [...v.pod.ips] } };
    },
  ],
  [
    'labels not shared',
    (doc) => {
      const v = fromOracle(doc);
      return v && { ...v, pod: { ...v.pod, labels: Object.freeze({ ...v.pod.labels }) } };
    },
  ],
  [
    'the namespace defaulted wrongly',
    (doc) => {
      const v = fromOracle(doc);
      return v && v.pod.namespace === 'default' ? { ...v, id: v.id.replace('/default/', '//') } : v;
    },
  ],
];

test('the harness catches scanners broken on purpose, and a scanner that declines all', () => {
  // Always the same documents (seed 1): this checks the harness, not the scanner.
  for (const [name, scan] of MUTANTS) {
    const r = run(scan, 4000, 1, 1);
    assert.ok(r.failures.length > 0, `not caught: a scanner that ${name}`);
  }
  // The oracle itself, as a scanner, passes: the mutants fail for what they break.
  assert.deepEqual(run(fromOracle, 1000, 1).failures, []);
  const none = run(() => null, 1000, 1);
  assert.equal(none.failures.length, 0);
  assert.ok(none.generalTakes >= 1000 * 0.2, `the generator gives the general path too few Pods to take: ${none.generalTakes} of 1000`);
});

/** Every document declined or exact; the first few that are not, printed. */
function assertAll(docs: string[]): void {
  const failures: string[] = [];
  for (const doc of docs) {
    const problem = check(fastPod, doc);
    if (problem) failures.push(`${problem}\n${JSON.stringify(doc)}`);
  }
  assert.equal(failures.length, 0, `${failures.length} of ${docs.length} documents:\n\n${failures.slice(0, 5).join('\n\n')}`);
}

test('every odd value in every place the scanner reads one: declined or exact', () => {
  // Each base seen twice: its layout learnt, if the scanner learns layouts.
  for (const base of BASES) for (let i = 0; i < 2; i++) fastPod(base);
  assertAll(slotGrid());
});

test('a layout with its values quoted, learnt, then each value changed in meaning: declined or exact', () => {
  const [base, ...docs] = quotedGrid();
  assert.ok(fastPod(base) && fastPod(base), `the base itself must be taken:\n${base}`);
  assertAll(docs);
  const taken = docs.filter((d) => fastPod(d) !== null).length;
  assert.ok(taken >= docs.length / 2, `only ${taken} of ${docs.length} taken`);
});

test('every document one edit away from a common Pod: declined or exact', () => {
  for (const base of BASES) {
    assert.ok(fastPod(base) && fastPod(base), `the base itself must be taken:\n${base}`);
    const docs = singleEdits(base).filter(isCutDocument);
    assertAll(docs);
  }
});

test('documents in a layout seen before, with other values: declined or exact', () => {
  let variants = 0;
  let taken = 0;
  const failures: string[] = [];
  for (let seed = FIRST_SEED, layouts = 0; layouts < Math.max(100, CASES / 40) && failures.length < 10; seed++) {
    // Plain, or mixed (quoted names, odd values, odd layouts): each a layout to learn.
    const { doc } = generate(seed, seed % 2 === 0);
    if (!isCutDocument(doc) || !fastPod(doc)) continue;
    layouts++;
    fastPod(doc); // seen twice: a scanner that learns layouts knows this one now
    for (let i = 0; i < 20; i++) {
      const other = revalue(seed * 100 + i, doc);
      if (!isCutDocument(other)) continue;
      variants++;
      const problem = check(fastPod, other);
      if (problem) failures.push(`seed ${seed}/${i}: ${problem}\n${JSON.stringify(other)}\n${other}`);
      else if (fastPod(other)) taken++;
    }
  }
  assert.deepEqual(failures, [], failures.join('\n\n'));
  assert.ok(taken >= variants * 0.1, `fastPod took only ${taken} of ${variants}`);
});

test('documents of many layouts in turn (more than a scanner may keep), with other values: declined or exact', () => {
  const layouts: { seed: number; doc: string }[] = [];
  for (let seed = FIRST_SEED + 7777; layouts.length < 24; seed++) {
    const { doc } = generate(seed, seed % 2 === 0);
    if (isCutDocument(doc) && fastPod(doc)) layouts.push({ seed, doc });
  }
  const d = rng(FIRST_SEED);
  const failures: string[] = [];
  for (let i = 0; i < Math.max(3000, CASES / 10) && failures.length < 10; i++) {
    // A working set of a few layouts at a time, drifting over all of them.
    const at = Math.min(layouts.length - 1, Math.floor(i / 200) + Math.floor(d() * 10));
    const { seed, doc } = layouts[at];
    const other = d() < 0.2 ? doc : revalue(seed * 1000 + i, doc);
    if (!isCutDocument(other)) continue;
    const problem = check(fastPod, other);
    if (problem) failures.push(`layout ${seed}, ${i}: ${problem}\n${JSON.stringify(other)}`);
  }
  assert.deepEqual(failures, [], failures.join('\n\n'));
});
