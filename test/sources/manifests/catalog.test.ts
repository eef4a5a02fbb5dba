import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManifestCatalog } from '../../../src/sources/manifests/catalog.js';
import { parseManifestText } from '../../../src/sources/manifests/read.js';

const pod = (name: string, app: string) => `kind: Pod\nmetadata: {name: ${name}, namespace: demo, labels: {app: ${app}}}\n`;

test('a re-read file touches only the objects that changed; a broken file keeps its objects', () => {
  const c = new ManifestCatalog();
  const first = c.setFile('a.yaml', parseManifestText([pod('p1', 'x'), pod('p2', 'x'), pod('p3', 'x')].join('---\n'), 'a.yaml'));
  assert.deepEqual([...first].sort(), ['Pod/demo/p1', 'Pod/demo/p2', 'Pod/demo/p3']);
  const p1 = c.winner('Pod/demo/p1')!.object;
  const second = c.setFile('a.yaml', parseManifestText(['# a comment moves every line\n' + pod('p1', 'x'), pod('p2', 'y'), pod('p4', 'x')].join('---\n'), 'a.yaml'));
  assert.deepEqual([...second].sort(), ['Pod/demo/p2', 'Pod/demo/p3', 'Pod/demo/p4']);
  assert.equal(c.winner('Pod/demo/p1')!.object, p1, 'the unchanged object is the same object');
  assert.equal(c.winner('Pod/demo/p1')!.line, 2, 'with its new line');
  assert.equal(c.winner('Pod/demo/p3'), undefined);
  const broken = c.setFile('a.yaml', parseManifestText('kind: Pod\nmetadata: {name: [\n', 'a.yaml'));
  assert.equal(broken.size, 0);
  assert.equal(c.errors().get('a.yaml')!.line, 3);
  assert.ok(c.winner('Pod/demo/p4'));
});

test('duplicates: the first file wins at start, the definition in effect keeps winning later', () => {
  const c = new ManifestCatalog();
  c.setFile('b.yaml', parseManifestText(pod('p', 'from-b'), 'b.yaml'));
  c.setFile('c.yaml', parseManifestText(pod('p', 'from-c'), 'c.yaml'));
  assert.equal(c.winner('Pod/demo/p')!.file, 'b.yaml');
  assert.deepEqual(
    c.losers('Pod/demo/p').map((d) => d.file),
    ['c.yaml'],
  );
  c.setFile('a.yaml', parseManifestText(pod('p', 'from-a'), 'a.yaml'));
  c.setFile('b.yaml', parseManifestText(pod('p', 'from-b2'), 'b.yaml'));
  assert.equal(c.winner('Pod/demo/p')!.file, 'b.yaml', 'an edit keeps the winner; a new file does not take over');
  c.removeFile('b.yaml');
  assert.equal(c.winner('Pod/demo/p')!.file, 'c.yaml');
});

test('after forgetObjects a winner keeps only a digest; a re-read still tells a real edit from the same object', () => {
  const c = new ManifestCatalog();
  const file = [pod('p1', 'x'), pod('p2', 'x')].join('---\n');
  c.setFile('a.yaml', parseManifestText(file, 'a.yaml'));
  c.setFile('b.yaml', parseManifestText(pod('p1', 'from-b'), 'b.yaml'));
  c.forgetObjects(['a.yaml', 'b.yaml']);
  const w = c.winner('Pod/demo/p1')!;
  assert.equal(w.source, undefined, 'the winner holds no text');
  assert.equal(w.object, undefined);
  assert.equal(typeof w.digest, 'number');
  assert.ok(c.applied(w));
  const loser = c.losers('Pod/demo/p1')[0];
  assert.equal(loser.source, pod('p1', 'from-b'), 'a loser keeps its text to take over later');
  assert.equal(c.applied(loser), false);

  // A comment moves p1's text but not what it reads as: not touched, the same definition.
  const same = c.setFile('a.yaml', parseManifestText(['# a comment\n' + pod('p1', 'x'), pod('p2', 'y')].join('---\n'), 'a.yaml'));
  assert.deepEqual([...same], ['Pod/demo/p2']);
  assert.equal(c.winner('Pod/demo/p1'), w);
  assert.equal(w.line, 2);
  // A real edit is a new definition, with its object.
  const edited = c.setFile('a.yaml', parseManifestText(['# a comment\n' + pod('p1', 'z'), pod('p2', 'y')].join('---\n'), 'a.yaml'));
  assert.deepEqual([...edited], ['Pod/demo/p1']);
  assert.equal((c.objectOf(c.winner('Pod/demo/p1')!).metadata as { labels: { app: string } }).labels.app, 'z');
  c.forgetObjects(['a.yaml']);
  // The winner's file goes: the loser takes over, parsed again from its text.
  c.removeFile('a.yaml');
  const taken = c.winner('Pod/demo/p1')!;
  assert.equal(taken.file, 'b.yaml');
  assert.equal((c.objectOf(taken).metadata as { labels: { app: string } }).labels.app, 'from-b');
});

test('a forgotten sole winner is packed: unpacked as it was when asked for, its file re-read, or a duplicate coming', () => {
  const c = new ManifestCatalog();
  c.setFile('a.yaml', parseManifestText([pod('p1', 'x'), pod('p2', 'x'), pod('p3', 'x')].join('---\n'), 'a.yaml'));
  c.setFile('b.yaml', parseManifestText(pod('q', 'x'), 'b.yaml'));
  c.forgetObjects(['a.yaml', 'b.yaml']);
  const p2 = c.winner('Pod/demo/p2')!;
  assert.deepEqual({ ...p2, digest: typeof p2.digest }, { id: 'Pod/demo/p2', file: 'a.yaml', line: 4, source: undefined, item: 0, object: undefined, pod: undefined, digest: 'number' });
  assert.ok(c.applied(p2));
  assert.equal(c.winner('Pod/demo/p2'), p2, 'unpacked once, the same definition until packed again');
  assert.equal(c.definedIn('a.yaml'), 3);

  // A duplicate in a new file: the packed winner keeps winning.
  c.setFile('c.yaml', parseManifestText(pod('p3', 'other'), 'c.yaml'));
  assert.equal(c.winner('Pod/demo/p3')!.file, 'a.yaml');
  assert.deepEqual(
    c.losers('Pod/demo/p3').map((d) => d.file),
    ['c.yaml'],
  );
  // The winner's file re-read: an unchanged packed object is not touched, a changed one is.
  c.forgetObjects(['a.yaml', 'c.yaml']);
  const again = c.setFile('a.yaml', parseManifestText(['# moved\n' + pod('p1', 'x'), pod('p2', 'x'), pod('p3', 'y')].join('---\n'), 'a.yaml'));
  assert.deepEqual([...again], ['Pod/demo/p3']);
  assert.equal(c.winner('Pod/demo/p1')!.line, 2);
  assert.equal(c.winner('Pod/demo/p3')!.file, 'a.yaml', 'an edit keeps the winner');
  // Gone: the loser takes over; every packed object of the file goes with it.
  c.forgetObjects(['a.yaml']);
  assert.deepEqual([...c.removeFile('a.yaml')].sort(), ['Pod/demo/p1', 'Pod/demo/p2', 'Pod/demo/p3']);
  assert.equal(c.winner('Pod/demo/p1'), undefined);
  assert.equal(c.winner('Pod/demo/p3')!.file, 'c.yaml');
  assert.equal(c.winner('Pod/demo/q')!.file, 'b.yaml');
  assert.deepEqual([...c.ids()].sort(), ['Pod/demo/p3', 'Pod/demo/q']);
});
