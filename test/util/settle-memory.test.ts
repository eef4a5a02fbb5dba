// After start-up kproxy lets go of what only the start-up needed: the spare nft text slabs are
// forgotten (a later full sync takes fresh ones), and the collections and malloc_trim run
// without an --expose-gc flag and without keeping the process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { releaseSpareSlabs, SlabArena } from '../../src/util/slab-arena.js';

test('released spare slabs are not lent again', () => {
  const size = 128 * 1024;
  const arena = new SlabArena();
  const a = arena.slab(size);
  arena.recycle();
  releaseSpareSlabs();
  assert.notEqual(new SlabArena().slab(size).buffer, a.buffer, 'a fresh slab after the release');
});

test('releaseStartupPeak collects without --expose-gc and does not hold the process open', () => {
  const mod = fileURLToPath(new URL('../../src/util/settle-memory.js', import.meta.url));
  const script = `const m = await import(${JSON.stringify(mod)}); const before = typeof globalThis.gc; m.releaseStartupPeak(); console.log(before, typeof globalThis.gc);`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'undefined undefined', 'the collector is reached without exposing gc globally');
  assert.ok(Date.now() - t0 < 5000, 'the quiet collection timer does not keep the process alive');
});
