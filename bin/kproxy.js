#!/usr/bin/env node
// The compiled CLI lives in dist/ (`npm run build`). In a clone that was never built, say so
// instead of failing with a module-not-found stack trace.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('kproxy is not built yet: run `npm ci && npm run build` in the kproxy folder first.\n');
  process.exit(2);
}
await import(main.href);
