#!/usr/bin/env node
// Part of `npm run build`, after tsc: bundles the few parts of @kubernetes/client-node that
// the kube source uses (KubeConfig, Watch, ListWatch) into dist/vendor/client-node.js.
// Importing the package itself loads its whole generated API (~0.9 s of CPU at start);
// the bundle holds only what those three reach (~0.17 s). src/sources/kube/client-node.ts
// loads the bundle, or the package when there is no bundle.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  stdin: { contents: "export { KubeConfig, Watch, ListWatch } from '@kubernetes/client-node';", resolveDir: root, loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: `${root}/dist/vendor/client-node.js`,
  // Some of the package's dependencies are CommonJS and require() Node's modules.
  banner: { js: "import { createRequire as kproxyCreateRequire } from 'node:module'; const require = kproxyCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'eof',
});
