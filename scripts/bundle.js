#!/usr/bin/env node
// Part of `npm run build`, after tsc. Two bundles that make start-up cheaper:
//  1. dist/vendor/client-node.js: the few parts of @kubernetes/client-node that the kube
//     source uses (KubeConfig, Watch, ListWatch). Importing the package itself loads its
//     whole generated API (~0.9 s of CPU at start); the bundle holds only what those three
//     reach (~0.17 s). src/sources/kube/client-node.ts loads the bundle, or the package when
//     there is no bundle.
//  2. dist/src/trace-bundle/: the entry `kproxy trace` starts from (dist/src/cli/trace-main.js),
//     bundled on its own with code splitting: what a trace of a saved nftables ruleset runs
//     is in a few files, and what other inputs need (a manifests folder, --live, the other
//     modes' tracers) in chunks loaded on demand. Each chunk is then turned into CommonJS
//     (chunk.cjs), because Node 20 gives V8's code cache only to scripts; bin/kproxy.js
//     loads them through start.cjs (src/cli/trace-start.ts, which says more). Last, one trace of a
//     small kproxy ruleset runs through it and keeps the bytecode V8 compiled beside each
//     chunk it loaded (chunk.cjs.cache). A cold trace is mostly start-up: loading and
//     compiling modules was ~70 ms of its CPU. The folder sits at the depth of every
//     dist/src/<dir>/ so that paths made from import.meta.url (package.json) stay right.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build, transform } from 'esbuild';
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
// chunk names change with their content (cli-bundle: where an older build bundled the whole CLI)
for (const old of ['cli-bundle', 'trace-bundle']) rmSync(`${root}/dist/src/${old}`, { recursive: true, force: true });
const traceBundle = `${root}/dist/src/trace-bundle`;
const split = await build({
  entryPoints: [`${root}/dist/src/cli/trace-main.js`],
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: traceBundle,
  outExtension: { '.js': '.cjs' },
  // koffi is a native addon; client-node is loaded through its own bundle (above).
  external: ['koffi', '@kubernetes/client-node'],
  logLevel: 'warning',
  legalComments: 'eof',
  write: false,
});
mkdirSync(traceBundle, { recursive: true });
for (const out of split.outputFiles) {
  // Imports of other chunks become require('./chunk-….cjs') (trace-start.ts resolves those),
  // on-demand imports too, and import.meta.url the chunk's own URL, which the loader passes.
  const cjs = await transform(out.text, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__kproxyUrl' },
    logLevel: 'warning',
  });
  writeFileSync(join(traceBundle, basename(out.path)), cjs.code);
}
// The loader (src/cli/trace-start.ts) as CommonJS too, for bin/kproxy.js to require.
await build({
  entryPoints: [`${root}/dist/src/cli/trace-start.js`],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: `${traceBundle}/start.cjs`,
  banner: { js: "const __kproxyUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__kproxyUrl' },
  logLevel: 'warning',
});
// The code cache: one trace (story output, as `npm run bench:trace` runs it) of the bench's
// ruleset at a small size, which reaches the same code as a large one; first of its iptables
// ruleset (JSON output), then of its nftables one, which starts from the caches the first
// wrote and keeps what both compiled (chunks only the first loaded keep its cache).
const { buildRuleset, buildIptablesRuleset } = await import(`${root}/dist/bench/trace.bench.js`);
const work = mkdtempSync(join(tmpdir(), 'kproxy-build-'));
try {
  const packet = ['--src', '10.200.0.9', '--dst', '172.16.0.49', '--dport', '80', '--local-address', '192.168.0.2'];
  const trainings = [
    { mode: 'iptables', text: await buildIptablesRuleset(50, 3), output: ['--json'], expect: '"DNAT"' },
    { mode: 'nftables', text: buildRuleset(50, 3), output: [], expect: 'DNAT' },
  ];
  for (const { mode, text, output, expect } of trainings) {
    const ruleset = join(work, `ruleset.${mode}`);
    writeFileSync(ruleset, text);
    const flags = ['--proxy-mode', mode, '--ruleset', ruleset, ...packet, ...output];
    const run = spawnSync(process.execPath, [`${root}/bin/kproxy.js`, 'trace', ...flags], { env: { ...process.env, KPROXY_TRACE_CODE_CACHE: 'write' }, encoding: 'utf8' });
    if (run.status !== 0 || !run.stdout.includes(expect)) throw new Error(`the trace bundle's code-cache run (${mode}) failed (exit ${run.status}): ${run.stderr}${run.stdout}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
