#!/usr/bin/env node
// Part of `npm run build`, after tsc. Two bundles that make start-up cheaper:
//  1. dist/vendor/client-node.js: the few parts of @kubernetes/client-node that the kube
//     source uses (KubeConfig, Watch, ListWatch). Importing the package itself loads its
//     whole generated API (~0.9 s of CPU at start); the bundle holds only what those three
//     reach (~0.17 s). src/sources/kube/client-node.ts loads the bundle, or the package when
//     there is no bundle.
//  2. dist/src/cli-bundle/: the compiled CLI (dist/src/cli/main.js) as one module per
//     subcommand (code splitting), which bin/kproxy.js uses for `kproxy trace`, a one-shot
//     command whose cold start is mostly module loading (~80 ms of CPU less). It sits at the
//     depth of every dist/src/<dir>/ so that paths made from import.meta.url (package.json,
//     the UI's assets) stay right; modules that start workers from sibling files (the
//     userspace and layer-2 modes, `kproxy run`) are not started from it.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Some of the bundled packages are CommonJS and require() Node's modules.
const banner = { js: "import { createRequire as kproxyCreateRequire } from 'node:module'; const require = kproxyCreateRequire(import.meta.url);" };
await build({
  stdin: { contents: "export { KubeConfig, Watch, ListWatch } from '@kubernetes/client-node';", resolveDir: root, loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: `${root}/dist/vendor/client-node.js`,
  banner,
  logLevel: 'warning',
  legalComments: 'eof',
});
rmSync(`${root}/dist/src/cli-bundle`, { recursive: true, force: true }); // chunk names change with their content
await build({
  entryPoints: [`${root}/dist/src/cli/main.js`],
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: `${root}/dist/src/cli-bundle`,
  // koffi is a native addon; client-node is loaded through its own bundle (above).
  external: ['koffi', '@kubernetes/client-node'],
  banner,
  logLevel: 'warning',
  legalComments: 'eof',
});
