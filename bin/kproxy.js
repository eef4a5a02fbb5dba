#!/usr/bin/env node
// kproxy's command. This file is CommonJS (bin/package.json), although the package is made
// of ES modules: a run that starts from an ES module pays for Node's ES module loader first
// (~15 ms of CPU), and `kproxy trace` starts without it (below).
'use strict';
const { existsSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

// The compiled CLI lives in dist/ (`npm run build`). In a clone that was never built, say so
// instead of failing with a module-not-found stack trace.
const main = join(__dirname, '../dist/src/cli/main.js');
if (!existsSync(main)) {
  process.stderr.write('kproxy is not built yet: run `npm ci && npm run build` in the kproxy folder first.\n');
  process.exit(2);
}
// `kproxy trace` starts from its own CommonJS bundle with V8's code cache (scripts/bundle.js,
// src/cli/trace-start.ts), when the build made one after the last compile (a bare `tsc`
// leaves an older bundle behind: not used then). Every other command starts from main.js.
const bundle = join(__dirname, '../dist/src/trace-bundle');
const fresh = () => existsSync(join(bundle, 'trace-main.cjs')) && statSync(join(bundle, 'trace-main.cjs')).mtimeMs >= statSync(main).mtimeMs;
if (process.argv[2] === 'trace' && fresh()) require(join(bundle, 'start.cjs')).startTrace();
else import(pathToFileURL(main).href);
