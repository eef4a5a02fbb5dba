// The manifests folder deleted and made again, or replaced by another folder of the same name:
// kproxy follows the folder that is there now, and does not make a deleted folder itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Folder, poll, port, service, startSource } from './harness.js';

test('a folder deleted and made again, then replaced by a rename, is followed each time', async () => {
  const f = new Folder();
  f.write('a.yaml', service('a', 'a'));
  const r = await startSource(f.dir);
  try {
    assert.ok(port(r.state(), 'demo/a'));
    // Deleted: its objects go, and kproxy does not make the folder again (its state file).
    rmSync(f.dir, { recursive: true, force: true });
    await poll(r.state, (st) => !port(st, 'demo/a'), 2000);
    await new Promise((ok) => setTimeout(ok, 300));
    assert.equal(existsSync(f.dir), false, 'the deleted folder stays deleted');
    // Made again (a new directory): found within the 1 s look-out, and watched from then on.
    mkdirSync(f.dir);
    writeFileSync(join(f.dir, 'b.yaml'), service('b', 'b'));
    await poll(r.state, (st) => Boolean(port(st, 'demo/b')), 3000);
    f.write('c.yaml', service('c', 'c'));
    await poll(r.state, (st) => Boolean(port(st, 'demo/c')), 2000);
    // Replaced in one step by another folder (what a deploy by rename does): a later edit in
    // the new folder is seen, so the new folder is the one watched.
    const next = mkdtempSync(join(tmpdir(), 'kproxy-manifests-next-'));
    writeFileSync(join(next, 'd.yaml'), service('d', 'd'));
    rmSync(f.dir, { recursive: true, force: true });
    renameSync(next, f.dir);
    await poll(r.state, (st) => Boolean(port(st, 'demo/d')) && !port(st, 'demo/b'), 3000);
    f.write('e.yaml', service('e', 'e'));
    await poll(r.state, (st) => Boolean(port(st, 'demo/e')), 2000);
  } finally {
    await r.stop();
    f.cleanup();
  }
});
