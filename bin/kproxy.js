#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm run build`). In a clone that was never built, say so
// instead of failing with a module-not-found stack trace.
import { existsSync, statSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('kproxy is not built yet: run `npm ci && npm run build` in the kproxy folder first.\n');
  process.exit(2);
}
// `kproxy trace` starts from its own bundle (scripts/bundle.js, dist/src/cli/trace-start.js),
// when the build made one after the last compile (a bare `tsc` leaves an older bundle behind:
// not used then): a few files with V8's code cache for a command that runs once and exits.
const bundled = new URL('../dist/src/trace-bundle/trace-main.cjs', import.meta.url);
const fresh = () => existsSync(bundled) && statSync(bundled).mtimeMs >= statSync(main).mtimeMs;
if (process.argv[2] === 'trace' && fresh()) (await import('../dist/src/cli/trace-start.js')).startTrace();
else await import(main.href);
