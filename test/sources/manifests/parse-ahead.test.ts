import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFile, encodeFile, ParseAhead, type ParseAheadOptions } from '../../../src/sources/manifests/parse-ahead.js';
import { listManifestFiles, parseManifestText, readManifestFile, type FileContents } from '../../../src/sources/manifests/read.js';
import { Folder, pod, service } from './harness.js';

const oddWorker = new URL('./odd-parse-worker.js', import.meta.url);

/**
 * Asserts that b is a as a parser gave it: equal values (-0 and NaN told apart, same
 * prototypes, same key order), and the same sharing (a value reached twice in a is reached
 * twice in b, and only then).
 */
function assertIdentical(a: unknown, b: unknown, what: string): void {
  assert.deepStrictEqual(b, a, what);
  const pairs = new Map<object, object>();
  const back = new Map<object, object>();
  const walk = (x: unknown, y: unknown, path: string) => {
    if (typeof x === 'number') assert.ok(Object.is(x, y), `${what}: ${path} is ${String(y)}, not ${String(x)}`);
    if (x === null || typeof x !== 'object') return;
    const seen = pairs.get(x);
    assert.ok(seen === undefined ? !back.has(y as object) : seen === y, `${what}: ${path} is shared differently`);
    if (seen) return;
    pairs.set(x, y as object);
    back.set(y as object, x);
    assert.deepEqual(Object.keys(y as object), Object.keys(x), `${what}: key order at ${path}`);
    for (const k of Object.keys(x)) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`);
  };
  walk(a, b, '');
}

/** Texts that JSON alone would not carry exactly, or that are odd in another way. */
const ODD: Record<string, string> = {
  'nan.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: .nan}]}\n',
  'inf.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: -.inf}]}\n',
  'big.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 1.0e999}]}\n',
  'negzero.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: -0.0}]}\n',
  'alias.yaml': 'apiVersion: v1\nkind: List\nitems:\n- kind: Service\n  metadata: {name: a}\n  spec:\n    selector: &s {app: web}\n- kind: Service\n  metadata: {name: b}\n  spec:\n    selector: *s\n',
  'alias-same.yaml': 'apiVersion: v1\nkind: List\nitems:\n- &x {kind: Service, metadata: {name: a}}\n- *x\n',
  'list.yaml': 'apiVersion: v1\nkind: List\nitems:\n- {kind: Pod, metadata: {name: a}}\n- 7\n- {kind: Pod, metadata: {name: b}}\n',
  'proto.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations: {"__proto__": x, "é": "\\u2028"}\n',
  'partial.yaml': '# a comment\n---\n- a list\n---\n\n\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nscalar\n',
  'twice.yaml': 'kind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: a}\n',
  'broken.yaml': 'kind: Pod\nmetadata: {name: a\n',
  'empty.yaml': '# nothing\n',
  'one.json': '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j", "labels": {"a": "b"}}, "spec": {"x": [1, 2.5, -3e-7, true, null]}}',
  'items.json': '{"kind": "PodList", "items": [{"kind": "Pod", "metadata": {"name": "x"}}, {"kind": "Pod", "metadata": {"name": "y"}}]}',
  'common.yaml': [service('a', 'a'), pod('p', 'a', '10.0.0.1', 80), pod('q', 'a', '10.0.0.2', 80)].join('---\n'),
};

test('the hand-over gives the main thread what parseManifestText gives: NaN, ±Infinity, -0, aliases, lists, errors', () => {
  for (const [file, text] of Object.entries(ODD)) {
    const want = parseManifestText(text, file);
    // structuredClone is the serializer postMessage uses.
    const got = decodeFile(structuredClone(encodeFile(7, file, text)), file);
    assertIdentical(want, got, file);
  }
  // The common case goes as JSON, with the document texts as slices of the file's.
  const m = encodeFile(0, 'common.yaml', ODD['common.yaml']);
  assert.ok('json' in m);
  // and the odd ones as text, for the main thread to parse.
  for (const f of ['nan.yaml', 'inf.yaml', 'negzero.yaml', 'alias.yaml', 'alias-same.yaml']) assert.ok(!('json' in encodeFile(0, f, ODD[f])), f);
});

function oddFolder(): Folder {
  const f = new Folder();
  for (const [file, text] of Object.entries(ODD)) f.write(file, text);
  f.write('sub/more.yaml', ODD['common.yaml'].replace(/name: (a|p|q)\b/g, 'name: $1-2'));
  f.write('unreadable.yaml/x.yaml', ODD['common.yaml']); // a directory named .yaml is walked
  return f;
}

async function takeAll(dir: string, o: ParseAheadOptions, startAfterMs = 0): Promise<{ got: FileContents[]; failures: string[] }> {
  const files = listManifestFiles(dir);
  const failures: string[] = [];
  const p = new ParseAhead(dir, files, { ...o, onFailure: (m) => failures.push(m) });
  const got: FileContents[] = [];
  try {
    await new Promise((r) => setTimeout(r, startAfterMs));
    for (let i = 0; i < files.length; i++) got.push(await p.take(i));
  } finally {
    p.close();
  }
  return { got, failures };
}

async function withOddWorker<T>(how: string, run: () => Promise<T>): Promise<T> {
  process.env.ODD_PARSE_WORKER = how;
  try {
    return await run();
  } finally {
    delete process.env.ODD_PARSE_WORKER;
  }
}

test('every file through the worker is what the main thread reads, file by file, in order', async () => {
  const f = oddFolder();
  try {
    const files = listManifestFiles(f.dir);
    const want = files.map((file) => readManifestFile(f.dir, file));
    const { got, failures } = await takeAll(f.dir, { mainHelps: false });
    assert.deepEqual(failures, []);
    assert.equal(got.length, files.length);
    for (let i = 0; i < files.length; i++) assertIdentical(want[i], got[i], files[i]);
    // A slow worker, started before the main thread takes anything: the main thread waits
    // for files the worker has claimed, and meanwhile parses the next ones it has not.
    const slow = await withOddWorker('slow', () => takeAll(f.dir, { script: oddWorker }, 400));
    assert.deepEqual(slow.failures, []);
    for (let i = 0; i < files.length; i++) assertIdentical(want[i], slow.got[i], `slow: ${files[i]}`);
  } finally {
    f.cleanup();
  }
});

test('a worker that cannot start, throws or dies mid-load costs only time: the main thread parses the rest', async () => {
  const f = oddFolder();
  try {
    const files = listManifestFiles(f.dir);
    const want = files.map((file) => readManifestFile(f.dir, file));
    const cases: [string, ParseAheadOptions, string][] = [
      ['no such script', { script: new URL('./no-such-parse-worker.js', import.meta.url) }, 'failed'],
      ['throws', { script: oddWorker }, 'failed: this parse worker throws at start'],
      ['die', { script: oddWorker }, 'exited (code 3)'],
    ];
    for (const [how, o, why] of cases) {
      for (const mainHelps of [false, true]) {
        const { got, failures } = await withOddWorker(how === 'throws' ? 'throw' : how, () => takeAll(f.dir, { ...o, mainHelps }));
        for (let i = 0; i < files.length; i++) assertIdentical(want[i], got[i], `${how}: ${files[i]}`);
        if (!mainHelps) {
          assert.equal(failures.length, 1, `${how}: said once`);
          assert.ok(failures[0].includes(why), `${how}: ${failures[0]}`);
        }
      }
    }
  } finally {
    f.cleanup();
  }
});
