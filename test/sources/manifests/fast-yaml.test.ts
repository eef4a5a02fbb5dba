// The manifest fast path (src/sources/manifests/fast-yaml.ts) against js-yaml: on every
// document it either returns exactly js-yaml's value or declines (FALLBACK). It must also
// actually take the common shapes, or the start-up it exists for is lost silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { FALLBACK, fastPathEligible, parseCommonYAML } from '../../../src/sources/manifests/fast-yaml.js';
import { parseManifestText } from '../../../src/sources/manifests/read.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

function library(doc: string): { value?: unknown; error?: string } {
  try {
    return { value: yaml.load(doc, { schema: yaml.CORE_SCHEMA, json: true }) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The fast path agrees with js-yaml or declines; returns whether it took the document. */
function agrees(doc: string): boolean {
  if (!fastPathEligible(doc, false)) return false;
  const fast = parseCommonYAML(doc);
  const lib = library(doc);
  if (fast === FALLBACK) return false;
  assert.equal(lib.error, undefined, `js-yaml refuses what the fast path took:\n${doc}\n(${lib.error})`);
  assert.deepStrictEqual(fast, lib.value, `different values for:\n${doc}`);
  return true;
}

const taken = (doc: string) => assert.ok(agrees(doc), `the fast path should take:\n${doc}`);

test('the common manifest shapes take the fast path and read as js-yaml reads them', () => {
  taken(`apiVersion: v1
kind: Service
metadata: {name: svc-1, namespace: bench}
spec:
  selector: {app: app-1}
  ports: [{name: http, port: 80, targetPort: http}]
`);
  taken(`apiVersion: v1
kind: Pod
metadata:
  name: pod-1
  namespace: bench
  labels: {app: app-0, tier: backend}
  annotations:
    "example.com/owner": team-a
    app.kubernetes.io/name: web
spec:
  nodeName: bench-node
  containers:
  - name: app
    image: "registry.example/app:1.2.3"
    args: ['--port', "8080", -v]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1, timeoutSeconds: 1}
  # a full-line comment
  terminationGracePeriodSeconds: 0
status:
  podIP: 10.1.2.3
  podIPs:
    - ip: 10.1.2.3
    -   ip: fd00::1
  conditions:
  - type: Ready
    status: "True"
    lastTransitionTime: 2024-01-01T00:00:00Z
  empty:
  emptyMap: {}
  emptyList: []
  nulls: [~, null, Null, NULL]
  bools: [true, True, TRUE, false, False, FALSE, yes, no, on, off]
  numbers: [0, 7, -12, 123456789012345, 10.0.0.1, 1.2.3, v1.2, "1.5"]
  nested:
  - a
`);
});

test('odd YAML: the fast path declines or agrees, and declines what it cannot be sure of', () => {
  const declined = [
    'a: &x {b: 1}\nc: *x\n', // anchors and aliases
    'a: !!str 12\n', // tags
    'a: |\n  text\n', // block scalars
    'a: >-\n  folded\n',
    'a: one\n  two\n', // multi-line plain scalar
    'a: "x\\ty"\n', // escapes
    "a: 'it''s'\n",
    'a: 1 # comment after a value\n',
    'a: 1\na: 2\n', // duplicate keys
    'a: {b: 1, b: 2}\n',
    'a:\n\tb: 1\n', // tab
    'a: 1.5\n', // floats and other numbers
    'a: 1e3\n',
    'a: 0x1F\n',
    'a: 0o17\n',
    'a: +12\n',
    'a: -0\n',
    'a: .inf\n',
    'a: .NaN\n',
    'a: 1234567890123456789\n',
    'a: {b: [1,\n  2]}\n', // flow over several lines
    '? complex\n: key\n',
    '"quoted\\"key": 1\n',
    "'single': 1\n",
    '__proto__: {polluted: true}\n',
    'true: 1\n',
    '12: port\n',
    '- a\n- b\n', // not a mapping at the top
    'just text\n',
    '%YAML 1.2\n',
    'a: b: c\n',
    'a: [b: c]\n',
    'a: {b}\n',
    'a: [1, 2,]\n',
    'a: x\n b: y\n',
    'a:\n  - x\n   - y\n',
    'a: café\n', // not ASCII: js-yaml checks printable characters
    'a: @x\n',
    'a: `x`\n',
    'a: -\n',
    'a:\n- - x\n',
    'a: "unterminated\n',
    'a: {b: "c}\n',
    'a: {b: c} d\n',
    'a: x\r\nb: y\r\n',
  ];
  for (const doc of declined) {
    assert.equal(agrees(doc), false, `the fast path should decline:\n${doc}`);
  }
  const accepted = [
    'a:\n- x\n- y\nb: z\n', // a sequence at its key's indentation
    'a:\n  b:\n    c: 1\n  d: 2\ne: 3\n',
    'list:\n  -\n    a: 1\n  - b\n',
    'a: "x#y"\nb: x#y\nc: "q: r"\n',
    'a: http://example.com/x?y=1\n',
    'a: {"quoted key": v, k: "v, w"}\n',
    'a: [[1, 2], {b: [c]}, "d"]\n',
    'a: "" \nb: \'\'\n',
    '"": empty key\n',
    'a: x - y\n',
    'a:    spaced    \n',
    'seq:\n- a: 1\n  b:\n  - 2\n- c\n',
    'n: [10.0.0.1, 1..2, .., 1.2.3]\n',
  ];
  for (const doc of accepted) taken(doc);
});

test('every example manifest in the repository reads the same through parseManifestText, with and without the fast path', () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ya?ml|json)$/.test(n)) files.push(p);
    }
  };
  walk(join(root, 'examples'));
  assert.ok(files.length > 0);
  let objects = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const fast = parseManifestText(text, f);
    const slow = parseManifestText(text, f, { fastPath: false });
    assert.deepStrictEqual(fast, slow, f);
    objects += fast.objects.length;
  }
  assert.ok(objects > 0);
});

test('a mixed file: same objects and lines either way; a broken document still names its line', () => {
  const text = [
    'kind: Pod\nmetadata: {name: a}\n',
    'kind: Pod\nmetadata: &m {name: b}\nextra: *m\n', // js-yaml's
    '# comment\nkind: List\nitems:\n- {kind: Pod, metadata: {name: c}}\n- kind: Pod\n  metadata: {name: d}\n',
  ].join('---\n');
  const fast = parseManifestText(text, 'x.yaml');
  assert.deepStrictEqual(fast, parseManifestText(text, 'x.yaml', { fastPath: false }));
  assert.deepEqual(
    fast.objects.map((o) => [o.object.metadata?.name, o.line]),
    [
      ['a', 1],
      ['b', 4],
      ['c', 9],
      ['d', 9],
    ],
  );
  const broken = parseManifestText('kind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata:\n  name: [b\n', 'y.yaml');
  assert.equal(broken.objects.length, 0);
  assert.equal(broken.errors.length, 1);
  assert.equal(broken.errors[0].file, 'y.yaml');
  assert.ok(broken.errors[0].line >= 6, `line ${broken.errors[0].line}`);
});

// Generated documents: values made of the characters that matter to YAML, written by
// js-yaml's dumper in block and flow styles, and the same values written by hand as plain
// scalars (where js-yaml may refuse them: then the fast path must decline too).
const tricky = fc.string({ unit: fc.constantFrom(...'ab01.-+eExo_:#,[]{}"\' !&*?|>%@`~/'.split('')), maxLength: 8 });
const friendly = fc.string({ unit: fc.constantFrom(...'abz09.-/_: '.split('')), maxLength: 12 });
const key = fc.oneof({ arbitrary: fc.constantFrom('a', 'b', 'name', 'app.kubernetes.io/name', 'x-y', '_k', 'K9'), weight: 6 }, { arbitrary: tricky, weight: 1 });
const leaf = fc.oneof(tricky, friendly, fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 3 })),
})).node;

test('generated documents: the fast path agrees with js-yaml or declines', () => {
  let took = 0;
  let runs = 0;
  fc.assert(
    fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 4 }), fc.integer({ min: -1, max: 3 }), fc.boolean(), (obj, flowLevel, indentSeq) => {
      const doc = yaml.dump(obj, { schema: yaml.CORE_SCHEMA, flowLevel, noArrayIndent: !indentSeq, lineWidth: -1 });
      runs++;
      if (agrees(doc)) took++;
    }),
    { numRuns: 3000, seed: 17 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(key, fc.oneof(tricky, friendly)), { minLength: 1, maxLength: 4 }), fc.boolean(), (pairs, flow) => {
      const doc = flow ? `m: {${pairs.map(([k, v]) => `${k}: ${v}`).join(', ')}}\n` : pairs.map(([k, v]) => `${k}: ${v}\n`).join('');
      runs++;
      if (agrees(doc)) took++;
    }),
    { numRuns: 5000, seed: 18 },
  );
  // Most generated documents are odd on purpose (tricky keys and values); enough must still
  // go the fast way for the comparison to mean something.
  assert.ok(took >= 1000, `the fast path took only ${took} of ${runs} generated documents`);
});

test('fastPathEligible: newline and printable ASCII only (ascii known: control characters only)', () => {
  assert.equal(fastPathEligible('kind: Pod\nmetadata: {name: "a~b"}\n', false), true);
  for (const c of ['\t', '\r', '\x00', '\x0b', '\x1f', '\x7f', '\x80', 'é', '\u2028', '\ufeff', '😀']) {
    assert.equal(fastPathEligible(`kind: Pod\nmetadata: {name: a${c}b}\n`, false), false, JSON.stringify(c));
  }
  assert.equal(fastPathEligible('name: é\n', true), true, 'the caller knows its text is ASCII (or accepts what it holds)');
  assert.equal(fastPathEligible('name: a\tb\n', true), false);
});
