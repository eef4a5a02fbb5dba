#!/usr/bin/env node
// Runs every compiled test file under dist/test with node's own test runner.
// Node 20's runner takes files, not globs, so the list is gathered here.
// Extra arguments are substrings: only test files whose path contains one of them run.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('dist/test', [])
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test');
  process.exit(1);
}
// Every test (and suite) fails after 5 minutes unless it sets its own timeout: a hung test
// must not hang CI.
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
