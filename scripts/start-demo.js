#!/usr/bin/env node
// `npm start`: builds kproxy when dist/ is missing or older than src/ (saying so: the first
// build takes a while), then runs the demo launcher in this same process, so that a signal to
// `npm start` reaches the launcher directly.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const launcher = join(root, 'dist/src/demo/launch.js');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (!existsSync(launcher) || newest(join(root, 'src')) > statSync(launcher).mtimeMs) {
  process.stderr.write(existsSync(launcher) ? 'kproxy: sources changed, rebuilding (tsc)…\n' : 'kproxy: building (tsc, about 10-20 s the first time)…\n');
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  } catch {
    process.stderr.write('kproxy: the build failed (see above); is `npm ci` done?\n');
    process.exit(2);
  }
}
// The launcher reads its folder and flags from process.argv[2...].
await import(launcher);
