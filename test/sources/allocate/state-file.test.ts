// The allocations file is written without following symlinks: a state folder that is a
// symlink (or writable by others) is refused, and the write never lands through a link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAllocations, saveAllocations } from '../../../src/sources/allocate/state.js';

const state = new Map([['demo/a', { clusterIPs: ['10.96.0.10'], nodePorts: {}, healthCheckNodePort: 0 }]]);

test('the state folder is made 0700; a symlinked or world-writable folder is refused', () => {
  const base = mkdtempSync(join(tmpdir(), 'kproxy-state-'));
  try {
    const path = join(base, 'm', '.kproxy-state', 'allocations.json');
    // The manifests folder is not made: a deleted one stays deleted.
    assert.throws(() => saveAllocations(path, state), /m does not exist; not writing allocations/);
    assert.equal(existsSync(join(base, 'm')), false);
    mkdirSync(join(base, 'm'));
    saveAllocations(path, state);
    assert.equal(statSync(join(base, 'm', '.kproxy-state')).mode & 0o777, 0o700);
    assert.deepEqual([...loadAllocations(path).state.keys()], ['demo/a']);
    // A planted symlink in place of the folder: refused, the target untouched.
    const target = join(base, 'elsewhere');
    mkdirSync(target);
    mkdirSync(join(base, 'n'));
    symlinkSync(target, join(base, 'n', '.kproxy-state'));
    assert.throws(() => saveAllocations(join(base, 'n', '.kproxy-state', 'allocations.json'), state), /not a directory/);
    assert.equal(existsSync(join(target, 'allocations.json')), false);
    mkdirSync(join(base, 'o', '.kproxy-state'), { recursive: true });
    chmodSync(join(base, 'o', '.kproxy-state'), 0o777);
    assert.throws(() => saveAllocations(join(base, 'o', '.kproxy-state', 'allocations.json'), state), /writable by others/);
    assert.match(readFileSync(path, 'utf8'), /10\.96\.0\.10/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a state file that cannot be read is named, with why and what kproxy starts from instead', () => {
  const base = mkdtempSync(join(tmpdir(), 'kproxy-state-'));
  try {
    const path = join(base, '.kproxy-state', 'allocations.json');
    mkdirSync(path, { recursive: true }); // a folder where the file should be: EISDIR, as root too
    const loaded = loadAllocations(path);
    assert.equal(loaded.state.size, 0);
    assert.equal(loaded.problem, `cannot read ${path} (EISDIR: illegal operation on a directory); starting from an empty allocation state`);
    assert.equal(loadAllocations(join(base, 'absent.json')).problem, null, 'absent is simply empty');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
