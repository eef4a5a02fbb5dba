// Hostile folders: each file below costs at most itself, never the process or its neighbours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, truncateSync } from 'node:fs';
import { readManifestFile } from '../../../src/sources/manifests/read.js';
import { FolderWatcher } from '../../../src/sources/manifests/watch.js';
import { Folder, poll, port, service, startSource } from './harness.js';

/** "Billion laughs", kept small: 6 levels of 10 aliases stand for a million strings in ~400 bytes. */
function aliasBomb(kind: string, name: string): string {
  const lines = [`apiVersion: v1`, `kind: ${kind}`, `metadata: {name: ${name}, namespace: demo}`, `data:`, `  a0: &a0 "lol"`];
  for (let i = 1; i <= 6; i++)
    lines.push(
      `  a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(', ')}]`,
    );
  return lines.join('\n') + '\n';
}

function deepJson(depth: number): string {
  return `{"apiVersion":"v1","kind":"Service","metadata":{"name":"deep","namespace":"demo"},"spec":{"ports":[{"port":80}],"x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`;
}

const fileErrors = (r: { state(): { errors: readonly { kind: string; name: string; reason: string }[] } }) => r.state().errors.filter((e) => e.kind === 'File');

test('an alias bomb, a 5,000-deep JSON file and an oversized file are errors on those files only', async () => {
  const f = new Folder();
  f.write('good.yaml', service('good', 'g'));
  f.write('bomb.yaml', aliasBomb('ConfigMap', 'laughs'));
  f.write('svc-bomb.yaml', aliasBomb('Service', 'laughs'));
  f.write('deep.json', deepJson(5000));
  const r = await startSource(f.dir);
  try {
    assert.ok(port(r.state(), 'demo/good'), 'the good Service is served');
    const errs = fileErrors(r);
    const by = (name: string) => errs.find((e) => e.name === name)?.reason ?? '';
    assert.match(by('bomb.yaml'), /expands to more than/);
    assert.match(by('svc-bomb.yaml'), /expands to more than/);
    assert.match(by('deep.json'), /nested more than 100 levels|cannot be read/);
    assert.equal(port(r.state(), 'demo/deep'), undefined);
    // Editing a refused file again (the path that stringifies objects to compare them) is fine too.
    f.write('deep.json', deepJson(6000));
    f.write('good.yaml', service('good', 'g') + '---\n' + service('good2', 'g'));
    await poll(r.state, (s) => port(s, 'demo/good2') !== undefined, 3000);
  } finally {
    await r.stop();
    f.cleanup();
  }
  // The size limit reads no further than the limit.
  const g = new Folder();
  try {
    g.write('big.yaml', service('big', 'b') + `# ${'x'.repeat(4000)}\n`);
    const c = readManifestFile(g.dir, 'big.yaml', 1000);
    assert.equal(c.objects.length, 0);
    assert.match(c.errors[0].message, /more than 1000 bytes/);
    assert.equal(readManifestFile(g.dir, 'big.yaml', 10_000).objects.length, 1);
  } finally {
    g.cleanup();
  }
});

test('a symlink loop in the folder is skipped and reported, the rest is read and watched', async () => {
  const f = new Folder();
  f.write('svc.yaml', service('a', 'a'));
  f.write('sub/b.yaml', service('b', 'b'));
  symlinkSync('.', f.path('loop'));
  symlinkSync('..', f.path('sub/up'));
  symlinkSync('self', f.path('self')); // a link to itself: ELOOP on stat
  const reported: string[] = [];
  const w = new FolderWatcher(f.dir, () => {}, { onError: (m) => reported.push(m) });
  try {
    assert.deepEqual(w.start(), ['sub/b.yaml', 'svc.yaml']);
    assert.ok(
      reported.some((m) => m.startsWith('loop:') && /already read/.test(m)),
      reported.join('\n'),
    );
    assert.ok(
      reported.some((m) => m.startsWith('sub/up:')),
      reported.join('\n'),
    );
    assert.ok(
      reported.some((m) => m.startsWith('self:') && /ELOOP/.test(m)),
      reported.join('\n'),
    );
    const n = reported.length;
    w.rescan();
    assert.equal(reported.length, n, 'reported once, not on every rescan');
  } finally {
    w.stop();
  }
  const r = await startSource(f.dir);
  try {
    assert.ok(port(r.state(), 'demo/a') && port(r.state(), 'demo/b'));
    f.write('sub/c.yaml', service('c', 'c'));
    await poll(r.state, (s) => port(s, 'demo/c') !== undefined, 3000);
  } finally {
    await r.stop();
    f.cleanup();
  }
});

test('a manifest truncated to 0 bytes keeps its Services for the grace period, then lets them go', async () => {
  const f = new Folder();
  f.write('app.yaml', `${service('a', 'a')}---\n${service('b', 'b')}`);
  const r = await startSource(f.dir, {}, { debounceMs: 20, emptyFileGraceMs: 1500 });
  try {
    truncateSync(f.path('app.yaml'), 0);
    await poll(r.state, (s) => fileErrors({ state: () => s }).some((e) => e.name === 'app.yaml'), 3000);
    assert.ok(port(r.state(), 'demo/a') && port(r.state(), 'demo/b'), 'kept while the file is empty');
    assert.match(fileErrors(r)[0].reason, /empty; its 2 objects are kept/);
    // The editor finishes its write: the error goes, the objects stay.
    f.write('app.yaml', service('a', 'a'));
    await poll(r.state, (s) => port(s, 'demo/b') === undefined, 3000);
    assert.ok(port(r.state(), 'demo/a'));
    assert.deepEqual(fileErrors(r), []);
    // Empty for longer than the grace period: taken at its word.
    truncateSync(f.path('app.yaml'), 0);
    await new Promise((res) => setTimeout(res, 500));
    assert.ok(port(r.state(), 'demo/a'), 'still kept within the grace period');
    await poll(r.state, (s) => port(s, 'demo/a') === undefined, 4000);
    assert.deepEqual(fileErrors(r), []);
  } finally {
    await r.stop();
    f.cleanup();
  }
});
