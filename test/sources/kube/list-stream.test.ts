// The streaming list splitter (src/sources/kube/list-stream.ts): whatever the chunking, it
// hands on exactly the items JSON.parse finds in the whole reply, keeps the rest as the
// skeleton, and refuses a truncated or malformed reply instead of guessing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListItemSplitter, MalformedList } from '../../../src/sources/kube/list-stream.js';

interface Run {
  items: unknown[];
  head: unknown;
  skeleton: unknown;
}

/** Feeds `text` cut at the given byte offsets; returns what came out, or throws what the splitter threw. */
function run(text: string | Buffer, cuts: number[] = []): Run {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const out: Run = { items: [], head: undefined, skeleton: undefined };
  const s = new ListItemSplitter(
    (json, i) => {
      assert.equal(i, out.items.length, 'items come in order, numbered from 0');
      out.items.push(JSON.parse(json));
    },
    (head) => {
      assert.equal(out.items.length, 0, 'the head comes before the first item');
      out.head = head;
    },
  );
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    // Each chunk is its own buffer, as sockets give them: nothing may point into an earlier one.
    s.write(Buffer.from(bytes.subarray(from, c)));
    from = c;
  }
  out.skeleton = s.end();
  return out;
}

const withEmptyItems = (whole: Record<string, unknown>) => ({ ...whole, items: [] });

// Strings with escapes, quotes, braces, brackets, commas, the word "items", multi-byte
// characters; nested arrays and objects; scalar and string elements.
const tricky = {
  kind: 'ServiceList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '42', note: '"items":[ {not an item} ]' },
  items: [
    {
      metadata: { name: 'a', namespace: 'x', annotations: { q: 'say \\"hi\\" }]{[', back: 'ends with a backslash\\', odd: 'one " quote, then } ] [ {', items: '[1,2]' } },
      spec: { ports: [{ port: 80 }, { port: 443 }] },
    },
    { metadata: { name: 'b\u00e9\u4e2d\ud83d\ude00', labels: { 'a,b': 'c:d', e: '\n\t\u0001' } }, items: [[], [{}], { items: [] }] },
    'a string element with ] and , and }',
    -1.5e3,
    true,
    null,
    [],
    {},
    12345,
  ],
};
const trickyText = JSON.stringify(tricky);
const trickyPretty = JSON.stringify(tricky, null, 2);

test('every element and the skeleton come out as JSON.parse sees them, whole or pretty-printed', () => {
  for (const text of [trickyText, trickyPretty]) {
    const r = run(text);
    assert.deepEqual(r.items, tricky.items);
    assert.deepEqual(r.skeleton, withEmptyItems(tricky));
    assert.deepEqual(r.head, { kind: 'ServiceList', apiVersion: 'v1', metadata: tricky.metadata, items: [] });
  }
});

test('a chunk may end at any byte, inside a string, an escape or a multi-byte character', () => {
  for (const text of [trickyText, trickyPretty]) {
    const n = Buffer.byteLength(text);
    for (let cut = 1; cut < n; cut++) {
      const r = run(text, [cut]);
      assert.deepEqual(r.items, tricky.items, `cut at ${cut}`);
      assert.deepEqual(r.skeleton, withEmptyItems(tricky), `cut at ${cut}`);
    }
    // One byte at a time.
    const r = run(
      text,
      Array.from({ length: n - 1 }, (_, i) => i + 1),
    );
    assert.deepEqual(r.items, tricky.items);
    // Many cuts at once (a fixed pseudo-random sequence).
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let k = 0; k < 200; k++) {
      const cuts = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 20) }, () => 1 + Math.floor(rand() * (n - 1))))].sort((a, b) => a - b);
      assert.deepEqual(run(text, cuts).items, tricky.items, `cuts ${cuts}`);
    }
  }
});

test('items that are empty, null, missing, after metadata or spelled with an escape', () => {
  assert.deepEqual(run('{"kind":"ServiceList","metadata":{},"items":[]}').skeleton, { kind: 'ServiceList', metadata: {}, items: [] });
  assert.deepEqual(run('{"kind":"ServiceList","metadata":{},"items":[ \n ]}').items, []);
  assert.deepEqual(run('{"kind":"ServiceList","metadata":{},"items":null}').skeleton, { kind: 'ServiceList', metadata: {}, items: null });
  assert.deepEqual(run('{"metadata":{}}').skeleton, { metadata: {} });
  const late = run('{"items":[{"a":1}],"metadata":{"resourceVersion":"3"}}');
  assert.deepEqual(late.items, [{ a: 1 }]);
  assert.deepEqual(late.skeleton, { items: [], metadata: { resourceVersion: '3' } });
  // A key the splitter does not recognise as `items` stays in the skeleton, whole.
  const escaped = run('{"\\u0069tems":[{"a":1}]}');
  assert.deepEqual(escaped.items, []);
  assert.deepEqual(escaped.skeleton, { items: [{ a: 1 }] });
  // Only the top-level `items` is split; a nested one is part of its element.
  assert.deepEqual(run('{"x":{"items":[1,2]},"items":[{"items":[3]}]}').items, [{ items: [3] }]);
  // A second top-level `items` is refused (see the malformed replies below): JSON.parse keeps
  // the last, so the items streamed from the first would not be the list's.
  assert.throws(() => run('{"items":[1],"items":[2]}'), MalformedList);
  // Replies that are not lists at all come out as their skeleton.
  assert.deepEqual(run('[]').skeleton, []);
  assert.deepEqual(run('[["items",[1]]]').skeleton, [['items', [1]]]);
  assert.equal(run('5').skeleton, 5);
});

test('a truncated reply is refused, whatever byte it stops at; the items before the cut were whole', () => {
  const bytes = Buffer.from(trickyText);
  for (let end = 0; end < bytes.length; end++) {
    const got: unknown[] = [];
    const s = new ListItemSplitter((json) => got.push(JSON.parse(json)));
    s.write(bytes.subarray(0, end));
    assert.throws(() => s.end(), MalformedList, `stopped at ${end}`);
    assert.deepEqual(got, tricky.items.slice(0, got.length), `stopped at ${end}: a prefix of the items`);
  }
});

test('malformed replies are refused with MalformedList, never a crash or a wrong item', () => {
  const bad = [
    '{"items":[{"a":1} {"b":2}]}', // no comma
    '{"items":[{"a":1},]}', // trailing comma
    '{"items":[,{"a":1}]}', // leading comma
    '{"items":[{"a":1}]}]', // a closing bracket too many
    '{"items":[]}{"items":[]}', // two replies
    '{"items":[{"a":1}]',
    '',
    '   ',
    '{"kind":"ServiceList" "items":[]}',
    '{"items":[{"a":1}],"items":null}', // two items keys: JSON.parse would keep only the last
    '{"items":[{"a":1}],"metadata":{},"items":[{"b":2}]}',
  ];
  for (const text of bad) {
    assert.throws(
      () => run(text),
      (e: unknown) => e instanceof MalformedList || e instanceof SyntaxError,
      text,
    );
  }
  // An element that is not JSON is cut out as text; JSON.parse (the caller's) refuses it.
  const texts: string[] = [];
  const s = new ListItemSplitter((json) => texts.push(json));
  s.write(Buffer.from('{"items":[{"a":1},tru,{"b":2}]}'));
  s.end();
  assert.deepEqual(texts, ['{"a":1}', 'tru', '{"b":2}']);
  assert.throws(() => JSON.parse(texts[1]));
});

test('what onItem or onItemsStart throws stops the splitter there', () => {
  const seen: string[] = [];
  const s = new ListItemSplitter((json) => {
    seen.push(json);
    if (seen.length === 2) throw new Error('refused');
  });
  assert.throws(() => s.write(Buffer.from('{"items":[1,2,3]}')), /refused/);
  assert.deepEqual(seen, ['1', '2']);
  const wrongKind = new ListItemSplitter(
    () => assert.fail('no item may be used from a list refused by its head'),
    (head) => {
      if ((head as { kind: string }).kind !== 'ServiceList') throw new Error('not a ServiceList');
    },
  );
  assert.throws(() => wrongKind.write(Buffer.from('{"kind":"PodList","items":[{"metadata":{"name":"p"}}]}')), /not a ServiceList/);
});
