// After start-up kproxy lets go of what only the start-up needed: the spare nft text slabs are
// forgotten (a later full sync takes fresh ones), and the collections and malloc_trim run
// without an --expose-gc flag and without keeping the process alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { releaseSpareSlabs, SlabArena } from '../../src/util/slab-arena.js';

const utilDir = fileURLToPath(new URL('../../src/util/', import.meta.url));

/** Runs an ES module script in a fresh Node (the settling is per process) and returns its stdout. */
function runFresh(lines: string[], timeout = 30_000): string {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', lines.join('\n')], { encoding: 'utf8', timeout });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('released spare slabs are not lent again', () => {
  const size = 128 * 1024;
  const arena = new SlabArena();
  const a = arena.slab(size);
  arena.recycle();
  releaseSpareSlabs();
  assert.notEqual(new SlabArena().slab(size).buffer, a.buffer, 'a fresh slab after the release');
});

test('releaseStartupPeak collects without --expose-gc and does not hold the process open', () => {
  const t0 = Date.now();
  const out = runFresh(
    [`const m = await import(${JSON.stringify(utilDir + 'settle-memory.js')});`, 'const before = typeof globalThis.gc; m.releaseStartupPeak(); console.log(before, typeof globalThis.gc);'],
    20_000,
  );
  assert.equal(out.trim(), 'undefined undefined', 'the collector is reached without exposing gc globally');
  assert.ok(Date.now() - t0 < 5000, 'the quiet collection timer does not keep the process alive');
});

// V8 counts a collected Buffer's memory as external until the next collection settles the
// sweep that freed it; a quiet proxy's next collection is its next full sync, so
// nodejs_external_memory_bytes kept the previous sync's text. The settling ends with a scavenge.
test('after a full sync settles, the freed text no longer counts as external memory', () => {
  const out = runFresh([
    `const m = await import(${JSON.stringify(utilDir + 'settle-memory.js')});`,
    'const base = process.memoryUsage().external;',
    'let text = []; for (let i = 0; i < 16; i++) text.push(Buffer.allocUnsafeSlow(1 << 20).fill(65));',
    'text = null;',
    'm.releaseFullSyncPeak();',
    // the quiet collection 6 s later, the trim and the scavenge 1 s after it
    'setTimeout(() => console.log(JSON.stringify({ base, external: process.memoryUsage().external, arrayBuffers: process.memoryUsage().arrayBuffers })), 8500);',
  ]);
  const { base, external, arrayBuffers } = JSON.parse(out) as { base: number; external: number; arrayBuffers: number };
  assert.ok(arrayBuffers < 4 * 2 ** 20, `the 16 MB were freed (arrayBuffers ${arrayBuffers})`);
  assert.ok(external - base < 4 * 2 ** 20, `external memory back near where it was: ${base} before, ${external} after`);
});

// The spare slabs go at the quiet collection after a full sync, not right after it: a full
// sync that follows within the quiet time (a retry, a short syncPeriod) writes into them again.
test('after a full sync the spare slabs are lent again until the quiet collection lets them go', () => {
  const out = runFresh([
    `const m = await import(${JSON.stringify(utilDir + 'settle-memory.js')});`,
    `const { SlabArena } = await import(${JSON.stringify(utilDir + 'slab-arena.js')});`,
    'const size = 256 * 1024;',
    'const sync = () => { const a = new SlabArena(); const s = a.slab(size); a.recycle(); m.releaseFullSyncPeak(); return s.buffer; };',
    'const first = sync();',
    'const burst = sync() === first;',
    'setTimeout(() => console.log(JSON.stringify({ burst, afterQuiet: new SlabArena().slab(size).buffer === first })), 7000);',
  ]);
  assert.deepEqual(JSON.parse(out), { burst: true, afterQuiet: false });
});

// The young generation grows to 32 MB during a big start-up and V8 shrinks it only in a full
// collection that finds the allocation rate low; the train of scavenges after the start-up
// collection gets it there well before the quiet collection (6 s).
test('after start-up the young generation shrinks within a second or two, before the quiet collection', () => {
  const out = runFresh([
    `const m = await import(${JSON.stringify(utilDir + 'settle-memory.js')});`,
    "const { getHeapSpaceStatistics } = await import('node:v8');",
    "const young = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;",
    'let keep = [];',
    "for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 2e5) keep = []; }",
    'keep = null;',
    'const grown = young();',
    'm.releaseStartupPeak();',
    'const t0 = Date.now();',
    'const poll = setInterval(() => { const now = young(); if (now < grown / 4 || Date.now() - t0 > 4500) { clearInterval(poll); console.log(JSON.stringify({ grown, now, ms: Date.now() - t0 })); } }, 100);',
  ]);
  const { grown, now, ms } = JSON.parse(out) as { grown: number; now: number; ms: number };
  assert.ok(grown >= 16 * 2 ** 20, `the churn grew the young generation (${grown} bytes)`);
  assert.ok(now < grown / 4, `the young generation is still ${now} bytes ${ms} ms after start-up (grown to ${grown})`);
});
