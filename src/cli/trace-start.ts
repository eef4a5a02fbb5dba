// Starts `kproxy trace` from dist/src/trace-bundle/ (made by scripts/bundle.js, which also makes
// this file into start.cjs there, for bin/kproxy.js to require): trace-main.ts
// and what it loads, bundled with code splitting and turned into CommonJS, one file per
// chunk. CommonJS because Node 20 offers V8's code cache only to scripts (vm.Script
// `cachedData`), not to ES modules: `npm run build` runs one trace through this loader and
// keeps, beside each chunk it loaded, the bytecode V8 compiled for it (chunk.cjs.cache). A
// cold trace then skips most of compiling (~30–40 ms of its CPU at 10,000 Services).
//
// Chunks load one another by relative path through the `require` given here, each once, so
// there is one copy of every class (ConfigError, TraceInputError) however a chunk is reached.
// A cache that V8 rejects (another Node or V8 flags than the build's) or that is missing only
// costs the compile it would have saved. Nothing here writes a file unless the build asks
// (KPROXY_TRACE_CODE_CACHE=write).
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/** The bundle's folder, and the file trace-main.ts became in it. */
export const TRACE_BUNDLE = fileURLToPath(new URL('../trace-bundle/', import.meta.url));
export const TRACE_ENTRY = join(TRACE_BUNDLE, 'trace-main.cjs');

// As Node wraps a CommonJS module, plus the chunk's own URL: esbuild turns import.meta.url
// into __kproxyUrl (paths such as package.json's are made from it).
const WRAP_START = '(function (exports, require, module, __filename, __dirname, __kproxyUrl) {';
const WRAP_END = '\n})';

interface Chunk {
  file: string;
  script: Script;
  /** Whether V8 took the cache the build wrote (false: none, or rejected). */
  cached: boolean;
}

const chunks = new Map<string, { exports: unknown }>();
const compiled: Chunk[] = [];

/**
 * Compiles one chunk of the bundle with its code cache, when there is one V8 accepts. V8
 * checks a cache against its own version and flags but against the source only by length:
 * a cache not newer than its chunk (the chunk was changed since the build) is not offered.
 */
export function compileChunk(file: string): Chunk {
  let cachedData: Buffer | undefined;
  try {
    if (statSync(file + '.cache').mtimeMs > statSync(file).mtimeMs) cachedData = readFileSync(file + '.cache');
  } catch {
    cachedData = undefined;
  }
  const script = new Script(WRAP_START + readFileSync(file, 'utf8') + WRAP_END, { filename: file, cachedData });
  return { file, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

let childProcess: object | undefined;

/**
 * node:child_process, loaded when first used. Commander requires it as it loads (for
 * subcommands that are programs of their own, which kproxy has none of), and it brings in
 * net, dgram and the stream modules: a trace that writes its answer with writeStdout
 * (write-stdout.ts) needs none of them. Every use of the stand-in (a property, `in`, a
 * listing of its keys) loads the module and answers from it.
 */
function lazyChildProcess(nodeRequire: NodeJS.Require): object {
  let real: object | undefined;
  const get = () => (real ??= nodeRequire('node:child_process') as object);
  childProcess ??= new Proxy(
    {},
    {
      get: (_, key) => Reflect.get(get(), key),
      has: (_, key) => Reflect.has(get(), key),
      ownKeys: () => Reflect.ownKeys(get()),
      // configurable: the stand-in itself holds no properties (a proxy may not report a
      // non-configurable property its target lacks)
      getOwnPropertyDescriptor: (_, key) => {
        const d = Reflect.getOwnPropertyDescriptor(get(), key);
        return d && { ...d, configurable: true };
      },
    },
  );
  return childProcess;
}

function load(file: string): unknown {
  const known = chunks.get(file);
  if (known) return known.exports;
  const module = { exports: {} as unknown };
  chunks.set(file, module);
  const chunk = compileChunk(file);
  compiled.push(chunk);
  const nodeRequire = createRequire(file);
  const require = (spec: string) => (spec.startsWith('./') ? load(join(dirname(file), spec)) : spec === 'node:child_process' ? lazyChildProcess(nodeRequire) : nodeRequire(spec));
  const run = chunk.script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, require, module, file, dirname(file), pathToFileURL(file).href);
  return module.exports;
}

/** Runs `kproxy trace` (process.argv) from the bundle. */
export function startTrace(): void {
  if (process.env.KPROXY_TRACE_CODE_CACHE === 'write') process.on('exit', writeCodeCache);
  load(TRACE_ENTRY);
}

/** The build's step: keeps the bytecode V8 compiled in this run beside each chunk loaded. */
function writeCodeCache(): void {
  for (const { file, script } of compiled) {
    const tmp = `${file}.cache.${process.pid}`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, file + '.cache');
  }
}
