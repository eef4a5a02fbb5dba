// A document that parses but is no object (a stray list or scalar in a multi-document file)
// costs only that document: the file's other objects are served and the file is reported
// with the document's line, until the file is fixed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ManifestCatalog } from '../../../src/sources/manifests/catalog.js';
import { parseManifestText } from '../../../src/sources/manifests/read.js';
import { fromRoot } from '../../helpers/paths.js';
import { Folder, service } from './harness.js';

const pod = (name: string) => `kind: Pod\nmetadata: {name: ${name}, namespace: demo}\n`;

test('a list or scalar document is skipped with its line; the other documents are kept', () => {
  const text = [pod('p1'), '- a list\n- of things\n', pod('p2'), '42\n'].join('---\n');
  const c = parseManifestText(text, 'a.yaml');
  assert.deepEqual(
    c.objects.map((o) => [o.object.metadata?.name, o.line]),
    [
      ['p1', 1],
      ['p2', 7],
    ],
  );
  assert.equal(c.partial, true);
  assert.equal(c.errors.length, 1);
  assert.equal(c.errors[0].line, 4);
  assert.match(c.errors[0].message, /got a list; this document is skipped \(and 1 more such document\(s\) in this file\)/);

  const cat = new ManifestCatalog();
  assert.deepEqual([...cat.setFile('a.yaml', c)].sort(), ['Pod/demo/p1', 'Pod/demo/p2']);
  assert.equal(cat.errors().get('a.yaml')!.line, 4);
  // fixed: the error goes, the objects stay
  cat.setFile('a.yaml', parseManifestText([pod('p1'), pod('p2')].join('---\n'), 'a.yaml'));
  assert.equal(cat.errors().size, 0);
  assert.ok(cat.winner('Pod/demo/p2'));
  // a parse error still voids the whole file (nothing half-read): the previous objects stay
  assert.equal(cat.setFile('a.yaml', parseManifestText(pod('p3') + '---\nkind: [\n', 'a.yaml')).size, 0);
  assert.ok(cat.winner('Pod/demo/p1'));
  assert.equal(cat.winner('Pod/demo/p3'), undefined);
});

test('kproxy services: a stray scalar document does not hide the Services of its file', () => {
  const f = new Folder();
  try {
    f.write('app.yaml', [service('a', 'a'), 'just a sentence\n', service('b', 'b')].join('---\n'));
    const out = execFileSync(process.execPath, [fromRoot('bin/kproxy.js'), 'services', '--manifests', f.dir, '--hostname-override', 'n', '--json'], { encoding: 'utf8' });
    const j = JSON.parse(out) as { services: { name: string }[]; errors: { kind: string; name: string; field: string; reason: string }[] };
    assert.deepEqual(j.services.map((s) => s.name).sort(), ['a', 'b']);
    assert.equal(j.errors.length, 1);
    assert.deepEqual([j.errors[0].kind, j.errors[0].name], ['File', 'app.yaml']);
    assert.match(j.errors[0].reason, /got the string "just a sentence"; this document is skipped/);
  } finally {
    f.cleanup();
  }
});
