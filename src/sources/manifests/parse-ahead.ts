// The first load of a big folder, read and parsed on a second thread: a worker reads and
// parses the files in order (readManifestText and parseManifestText, the same functions as
// the main thread) and hands each file over while the main thread applies the one before.
//
// The hand-over is what the pipeline pays for, so it is the cheapest exact one measured:
// the file's text once (documents are slices of it, as when the main thread parses), the
// objects as one JSON text (JSON.parse is cheaper than V8's deserializer, and far cheaper
// than parsing the YAML), and per object its line, item and document's place in the text.
// JSON keeps strings, booleans, null, finite numbers, arrays, plain objects and their key
// order; it loses NaN, ±Infinity (YAML `.nan`, `.inf`, a float out of range), -0, and the
// sharing of a value that YAML aliases (`*name`) point to twice. A file with any of those is
// handed over as its text alone, and the main thread parses it itself.
//
// The worker costs only time when anything goes wrong: if it cannot start, throws or dies,
// the main thread parses every file it has not received. Files are claimed one by one
// (a shared array), so while the worker starts the main thread parses the first files
// itself, and it never waits for the worker: with the next file still in the worker's hands
// it parses a later, unclaimed one, and with none left (the worker is far behind, as on a
// busy machine) it parses the worker's file too and drops the worker's copy. The worker
// stays at most `ahead` files in front of what the main thread took, which bounds the memory
// the hand-over holds.
import { Worker } from 'node:worker_threads';
import { parseManifestText, readManifestFile, readManifestText, type FileContents, type ManifestError, type ManifestObject } from './read.js';

/** One file as the worker hands it over. */
export type HandedOver =
  /** Nothing but errors (or nothing at all): as it is. */
  | { i: number; contents: FileContents }
  /** Not exactly JSON: the text, for the main thread to parse. */
  | { i: number; text: string }
  /** The objects as JSON; per object its line, item, and the start and end of its document in text. */
  | { i: number; text: string; json: string; meta: Int32Array; errors: ManifestError[]; partial?: boolean };

/** Parses one file's text and puts the result in the form handed to the main thread. */
export function encodeFile(i: number, file: string, text: string): HandedOver {
  const c = parseManifestText(text, file);
  const n = c.objects.length;
  if (n === 0) return { i, contents: c };
  const seen = text.includes('*') ? new Set<object>() : null; // no alias without a `*`
  const values: unknown[] = new Array(n);
  const meta = new Int32Array(4 * n);
  let source: string | undefined;
  let start = 0;
  let end = 0;
  for (let k = 0; k < n; k++) {
    const o = c.objects[k];
    if (!exactInJSON(o.object, seen)) return { i, text };
    // Documents come in order: each is found from the end of the one before. (An equal text
    // found earlier would slice into an equal string: the same value.)
    if (o.source !== source) {
      source = o.source;
      start = text.indexOf(source, end);
      if (start < 0) return { i, text };
      end = start + source.length;
    }
    values[k] = o.object;
    meta[4 * k] = o.line;
    meta[4 * k + 1] = o.item;
    meta[4 * k + 2] = start;
    meta[4 * k + 3] = end;
  }
  const json = JSON.stringify(values);
  return c.partial ? { i, text, json, meta, errors: c.errors, partial: true } : { i, text, json, meta, errors: c.errors };
}

/** What parseManifestText gave the worker for this file. */
export function decodeFile(m: HandedOver, file: string): FileContents {
  if ('contents' in m) return m.contents;
  if (!('json' in m)) return parseManifestText(m.text, file);
  const values = JSON.parse(m.json) as ManifestObject['object'][];
  const { text, meta } = m;
  const objects: ManifestObject[] = new Array(values.length);
  let source = '';
  let start = -1;
  let end = -1;
  for (let k = 0; k < values.length; k++) {
    // Items of one List share their document's text, as they do when parsed here.
    if (meta[4 * k + 2] !== start || meta[4 * k + 3] !== end) {
      start = meta[4 * k + 2];
      end = meta[4 * k + 3];
      source = text.slice(start, end);
    }
    objects[k] = { object: values[k], file, line: meta[4 * k], source, item: meta[4 * k + 1] };
  }
  return m.partial ? { objects, errors: m.errors, partial: true } : { objects, errors: m.errors };
}

/**
 * True when JSON gives this value back as it is: no NaN, ±Infinity or -0, nothing but
 * strings, booleans, null, arrays and objects, and (when `seen` is given) no object reached
 * twice. Depth is bounded: parseManifestText refuses values nested over 100 levels.
 */
function exactInJSON(v: unknown, seen: Set<object> | null): boolean {
  const t = typeof v;
  if (t === 'string' || t === 'boolean' || v === null) return true;
  if (t === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (t !== 'object') return false;
  const o = v as object;
  if (seen) {
    if (seen.has(o)) return false;
    seen.add(o);
  }
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) if (!exactInJSON(o[i], seen)) return false;
    return true;
  }
  for (const k in o) if (!exactInJSON((o as Record<string, unknown>)[k], seen)) return false;
  return true;
}

/** What the worker is given. */
export interface WorkerSetup {
  dir: string;
  files: readonly string[];
  /** The first file the worker parses: the ones before it are the main thread's while the worker starts. */
  first: number;
  /** [files the main thread has taken, then one claim per file: 0 free, 1 the worker's, 2 the main thread's]. */
  shared: SharedArrayBuffer;
  ahead: number;
}

const FREE = 0;
const WORKER = 1;
const MAIN = 2;

/** The worker's loop (parse-worker.ts): every file it can claim, in order, handed over with `post`. */
export function serveFiles(d: WorkerSetup, post: (m: HandedOver, transfer: ArrayBuffer[]) => void): void {
  const taken = new Int32Array(d.shared, 0, 1);
  const claims = new Int32Array(d.shared, 4, d.files.length);
  for (let i = d.first; i < d.files.length; i++) {
    for (let t = Atomics.load(taken, 0); i - t >= d.ahead; t = Atomics.load(taken, 0)) Atomics.wait(taken, 0, t);
    if (Atomics.compareExchange(claims, i, FREE, WORKER) !== FREE) continue; // the main thread has it
    const text = readManifestText(d.dir, d.files[i]);
    const m = typeof text === 'string' ? encodeFile(i, d.files[i], text) : { i, contents: text };
    post(m, 'meta' in m ? [m.meta.buffer as ArrayBuffer] : []);
  }
}

export interface ParseAheadOptions {
  /** The worker's script (tests give one that fails). */
  script?: URL;
  /** How many files the worker may be in front of the main thread (default 4). */
  ahead?: number;
  /** Whether the main thread parses a file the worker has not claimed yet (default true). */
  mainHelps?: boolean;
  /** Told once, when the main thread goes on without the worker. */
  onFailure?: (why: string) => void;
}

/** The main thread's side: take(0), take(1), … give each file's contents, in order. */
export class ParseAhead {
  private worker: Worker | null = null;
  private readonly taken: Int32Array;
  private readonly claims: Int32Array;
  private readonly received = new Map<number, HandedOver>();
  /** Files the main thread parsed ahead while it waited for the worker. */
  private readonly parsedHere = new Map<number, FileContents>();
  private readonly ahead: number;
  /** The next file the main thread takes. */
  private next = 0;
  private failure: string | null = null;
  private wake: (() => void) | null = null;
  private readonly mainHelps: boolean;

  constructor(
    private readonly dir: string,
    private readonly files: readonly string[],
    private readonly opts: ParseAheadOptions = {},
  ) {
    const shared = new SharedArrayBuffer(4 * (files.length + 1));
    this.taken = new Int32Array(shared, 0, 1);
    this.claims = new Int32Array(shared, 4, files.length);
    this.mainHelps = opts.mainHelps ?? true;
    // The worker takes ≈50 ms to start and parses its first file with cold code: the main
    // thread parses the first twentieth of the files meanwhile (and any it reaches unclaimed).
    const first = this.mainHelps ? Math.floor(files.length / 20) : 0;
    this.ahead = opts.ahead ?? 4;
    const setup: WorkerSetup = { dir, files, first, shared, ahead: this.ahead };
    try {
      const w = new Worker(opts.script ?? new URL('./parse-worker.js', import.meta.url), { workerData: setup });
      w.on('message', (m: HandedOver) => {
        if (m.i >= this.next) this.received.set(m.i, m); // else parsed here meanwhile
        this.wakeUp();
      });
      w.on('error', (e: Error) => this.fail(`failed: ${e.message}`));
      w.on('exit', (code: number) => (code === 0 ? this.end() : this.fail(`exited (code ${code})`)));
      this.worker = w;
    } catch (e) {
      this.fail(`cannot start: ${(e as Error).message}`);
    }
  }

  /** The contents of files[i]; call in order, each once. */
  async take(i: number): Promise<FileContents> {
    const file = this.files[i];
    try {
      for (;;) {
        const m = this.received.get(i);
        if (m) {
          this.received.delete(i);
          return decodeFile(m, file);
        }
        const here = this.parsedHere.get(i);
        if (here) {
          this.parsedHere.delete(i);
          return here;
        }
        const claim = Atomics.load(this.claims, i);
        const mine = claim === MAIN || (claim === FREE && this.mainHelps && Atomics.compareExchange(this.claims, i, FREE, MAIN) === FREE);
        if (mine || this.failure !== null || this.ended) {
          if (this.failure !== null) this.report();
          return readManifestFile(this.dir, file);
        }
        if (!this.mainHelps) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        // The worker has file i but has not handed it over. Rather than wait, parse a later
        // file it has not claimed (it skips that one), then look again; when there is none,
        // the worker is `ahead` files behind (a busy machine): parse file i here too, and
        // drop the worker's copy when it comes.
        if (!this.parseNextFree(i)) return readManifestFile(this.dir, file);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.next = i + 1;
      Atomics.store(this.taken, 0, i + 1);
      Atomics.notify(this.taken, 0);
    }
  }

  /** Parses the first file after i, within `ahead`, that nobody has claimed; false if none. */
  private parseNextFree(i: number): boolean {
    const end = Math.min(this.files.length, i + 1 + this.ahead);
    for (let j = i + 1; j < end; j++) {
      if (Atomics.compareExchange(this.claims, j, FREE, MAIN) !== FREE) continue;
      this.parsedHere.set(j, readManifestFile(this.dir, this.files[j]));
      return true;
    }
    return false;
  }

  /** Stops the worker (if it still runs) and lets go of what it handed over. */
  close(): void {
    const w = this.worker;
    this.worker = null;
    this.received.clear();
    this.parsedHere.clear();
    if (!w) return;
    w.removeAllListeners();
    w.on('error', () => {}); // an error while terminating is no longer ours
    Atomics.store(this.taken, 0, this.files.length); // a worker waiting to go ahead: go
    Atomics.notify(this.taken, 0);
    void w.terminate();
  }

  /** The worker is gone: nothing more will come. */
  private ended = false;
  private end(): void {
    this.ended = true;
    this.wakeUp();
  }

  private fail(why: string): void {
    this.failure ??= why;
    this.end();
  }

  private reported = false;
  private report(): void {
    if (this.reported) return;
    this.reported = true;
    this.opts.onFailure?.(`the parse worker ${this.failure}; the main thread parses the rest`);
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
