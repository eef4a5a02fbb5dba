#!/usr/bin/env node
// Checks the import graph of src/ against the architecture (DESIGN.md): no import cycles
// (type-only and dynamic imports count: a cycle of contracts is still a cycle), and none of
// the forbidden arrows. Prints each violation with the files involved; exit 1 if any.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
// `--src DIR` checks another tree (the script's own test does).
const at = process.argv.indexOf('--src');
const SRC = at > 0 ? resolve(process.argv[at + 1]) : join(ROOT, 'src');

/** [from-pattern, to-pattern, why]: a file matching `from` must not import one matching `to`. */
const FORBIDDEN = [
  [/^model\//, /^(dataplanes|sources|dns|health|cli|trace|rules|ui|sync|addons)\//, 'the model imports no dataplane, no source and nothing downstream'],
  [/^sources\//, /^(model|dataplanes|dns|health|cli|trace|rules|ui|sync|addons)\//, 'sources import nothing downstream (they write into the ObjectSink they declare)'],
  [/^api\//, /^(?!api\/|util\/)/, 'object types and validation depend on nothing but util'],
  [/^util\//, /^(?!util\/)/, 'util depends on nothing in kproxy'],
  [/^trace\//, /^(dataplanes|sources|cli|ui)\//, 'interpreters read ruleset text; they import no dataplane'],
  [/^(?!cli\/)/, /^cli\//, 'the command line is the top: nothing imports it'],
];
/** A dataplane never imports another dataplane. */
const dataplaneOf = (f) => /^dataplanes\/([^/]+)\//.exec(f)?.[1] ?? null;

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

const files = walk(SRC).map((f) => relative(SRC, f));
const graph = new Map();
for (const f of files) {
  const text = readFileSync(join(SRC, f), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const deps = new Set();
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = relative(SRC, resolve(dirname(join(SRC, f)), spec)).replace(/\.js$/, '.ts');
    if (target.startsWith('..')) continue;
    deps.add(target);
  }
  graph.set(f, [...deps].sort());
}

const problems = [];
for (const [f, deps] of graph) {
  for (const d of deps) {
    for (const [from, to, why] of FORBIDDEN) if (from.test(f) && to.test(d)) problems.push(`forbidden import: src/${f} → src/${d} (${why})`);
    const a = dataplaneOf(f);
    const b = dataplaneOf(d);
    if (a && b && a !== b) problems.push(`forbidden import: src/${f} → src/${d} (a dataplane never imports another dataplane)`);
  }
}

// Cycles: Tarjan's strongly connected components; each component of more than one file
// (or a file importing itself) is reported once, with one concrete cycle through it.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const sccs = [];
function strong(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const c = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      c.push(w);
    } while (w !== v);
    if (c.length > 1 || (graph.get(v) ?? []).includes(v)) sccs.push(c.sort());
  }
}
for (const f of [...graph.keys()].sort()) if (!idx.has(f)) strong(f);

function cycleIn(component) {
  const inside = new Set(component);
  const start = component[0];
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [];
        for (let x = v; x !== null; x = prev.get(x)) path.unshift(x);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}
for (const c of sccs)
  problems.push(
    `import cycle: ${cycleIn(c)
      .map((f) => `src/${f}`)
      .join(' → ')}`,
  );

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`check-imports: ${problems.length} problem(s) in ${graph.size} files`);
  process.exit(1);
}
console.log(`check-imports: ${graph.size} files, no cycle, no forbidden import`);
