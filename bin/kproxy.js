#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm run build`). In a clone that was never built, say so
// instead of failing with a module-not-found stack trace.
import { existsSync, statSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('kproxy is not built yet: run `npm ci && npm run build` in the kproxy folder first.\n');
  process.exit(2);
}
// `kproxy trace` starts from the bundled CLI (scripts/bundle.js), when the build made one
// after the last compile (a bare `tsc` leaves an older bundle behind: not used then): fewer,
// larger modules to load for a command that runs once and exits.
const bundled = new URL('../dist/src/cli-bundle/main.js', import.meta.url);
const fresh = () => existsSync(bundled) && statSync(bundled).mtimeMs >= statSync(main).mtimeMs;
await import((process.argv[2] === 'trace' && fresh() ? bundled : main).href);
