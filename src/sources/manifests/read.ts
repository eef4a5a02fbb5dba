// Reads a folder of ordinary Kubernetes manifests: every .yaml, .yml and .json file below
// it, multi-document YAML and `kind: List` included. A file that does not parse is reported
// with its path and line; its neighbours are unaffected.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { KubeObject } from '../../api/types.js';
import { FALLBACK, fastPathEligible, parseCommonYAML } from './fast-yaml.js';
import { fastPod, type FastPod } from './fast-pod.js';
import { checkExpansion, expandedNodeBudget, MAX_MANIFEST_FILE_BYTES } from './limits.js';
import { walkManifestFolder } from './walk.js';

export interface ManifestObject {
  object: KubeObject;
  file: string; // path relative to the folder
  line: number; // 1-based line where the object starts
  /**
   * The document's text and the object's place in it (its index among a List's items, else
   * 0): parsing `source` again gives the same object (see ManifestCatalog.objectOf).
   */
  source: string;
  item: number;
  /**
   * Only from `pods: true`: a Pod document in the common shape, read straight from its text
   * into its id, validated Pod and digest (fast-pod.ts); `object` is then parsed only when
   * asked for.
   */
  fast?: FastPod;
}

/** A common-shape Pod document: its object is built only if something asks for it. */
class FastPodObject implements ManifestObject {
  private parsed: KubeObject | undefined;
  readonly item = 0;
  constructor(
    readonly fast: FastPod,
    readonly file: string,
    readonly line: number,
    readonly source: string,
  ) {}

  get object(): KubeObject {
    return (this.parsed ??= parseDocument(this.source, this.file, true) as KubeObject);
  }
}

export interface ManifestError {
  file: string;
  line: number;
  message: string;
}

export interface FileContents {
  objects: ManifestObject[];
  errors: ManifestError[];
  /**
   * The errors are about single documents that are not objects (a list, a scalar): the file
   * parsed, and `objects` holds every other document. Without it, an error voids the file.
   */
  partial?: boolean;
}

export interface ParseOptions {
  /** false: js-yaml parses every document (the benchmark's reference). */
  fastPath?: boolean;
  /**
   * Common-shape Pod documents come as their validated Pod (ManifestObject.fast), for the
   * catalog (see fast-pod.ts); their `object` is parsed only when read.
   */
  pods?: boolean;
}

/** Every manifest file below dir, sorted, as paths relative to dir (see walk.ts for symlinks). */
export function listManifestFiles(dir: string): string[] {
  return [...walkManifestFolder(dir).files.keys()];
}

/**
 * Parses one file's text. Any parse error makes the whole file an error (nothing half-read);
 * a document that parses but is no object (a list, a scalar) costs only that document.
 *
 * The text is cut into documents at column-0 "---" lines (the YAML spec forbids such a line
 * inside a document, so the cut is exact), which gives each object its line number; each
 * document is parsed with js-yaml's core schema (YAML 1.2: timestamps stay strings, as
 * Kubernetes sees them), roughly ten times faster than the `yaml` package on big folders.
 * Documents in the common manifest shape go through fast-yaml.ts first (same result, a
 * fraction of the time); `fastPath: false` gives js-yaml every document (the benchmark's
 * reference). With `pods: true`, a Pod document in the common shape is not parsed into an
 * object at all (fast-pod.ts). A .json file is tried with JSON.parse first.
 */
export function parseManifestText(text: string, file: string, o: ParseOptions = {}): FileContents {
  const objects: ManifestObject[] = [];
  const skipped: ManifestError[] = [];
  const add = (value: unknown, line: number, source: string): ManifestError | null => {
    if (value === null || value === undefined) return null;
    const tooBig = checkExpansion(value, expandedNodeBudget(source.length));
    if (tooBig) return { file, line, message: tooBig };
    if (typeof value !== 'object' || Array.isArray(value)) {
      skipped.push({
        file,
        line,
        message: `expected a Kubernetes object (a mapping with apiVersion and kind), got ${Array.isArray(value) ? 'a list' : `the ${typeof value} ${JSON.stringify(value).slice(0, 40)}`}; this document is skipped`,
      });
      return null;
    }
    const o = value as KubeObject;
    if (o.kind === 'List' || (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items))) {
      const items = (o.items as unknown[]) ?? [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item && typeof item === 'object' && !Array.isArray(item)) objects.push({ object: item as KubeObject, file, line, source, item: i });
      }
    } else {
      objects.push({ object: o, file, line, source, item: 0 });
    }
    return null;
  };
  if (/\.json$/i.test(file)) {
    try {
      const err = add(JSON.parse(text), 1, text);
      return err ? { objects: [], errors: [err] } : contents(objects, skipped);
    } catch (e) {
      if (e instanceof RangeError) return { objects: [], errors: [{ file, line: 1, message: `cannot be read: ${e.message}` }] };
      objects.length = 0; // not plain JSON: YAML below reports where it breaks
    }
  }
  const fast = o.fastPath !== false && fastPathEligible(text, false);
  const pods = fast && o.pods === true;
  for (const doc of splitDocuments(text)) {
    const pod = pods ? fastPod(doc.text) : null;
    if (pod) {
      objects.push(new FastPodObject(pod, file, doc.line + leadingBlankLines(doc.text), doc.text));
      continue;
    }
    let value: unknown;
    try {
      value = parseDocument(doc.text, file, fast);
    } catch (e) {
      if (e instanceof RangeError) return { objects: [], errors: [{ file, line: doc.line, message: `cannot be read: ${e.message}` }] };
      const ye = e as yaml.YAMLException;
      const line = doc.line + (ye.mark?.line ?? 0);
      return { objects: [], errors: [{ file, line, message: ye.reason ?? ye.message.split('\n')[0] }] };
    }
    const err = add(value, doc.line + leadingBlankLines(doc.text), doc.text);
    if (err) return { objects: [], errors: [err] };
  }
  return contents(objects, skipped);
}

/** One document's value: fast-yaml.ts when the file allows it and it can, else js-yaml (which throws on an error). */
function parseDocument(doc: string, file: string, fast: boolean): unknown {
  const value = fast ? parseCommonYAML(doc) : FALLBACK;
  return value === FALLBACK ? yaml.load(doc, { schema: yaml.CORE_SCHEMA, json: true, filename: file }) : value;
}

function contents(objects: ManifestObject[], skipped: ManifestError[]): FileContents {
  if (skipped.length === 0) return { objects, errors: [] };
  // Nothing else in the file: as a parse error, so that its previous objects stay.
  if (objects.length === 0) return { objects, errors: [skipped[0]] };
  // The catalog keeps one error per file: the first, counting the others.
  const first = skipped[0];
  const more = skipped.length > 1 ? ` (and ${skipped.length - 1} more such document(s) in this file)` : '';
  return { objects, errors: [{ ...first, message: first.message + more }], partial: true };
}

/** Documents of a YAML stream with the line (1-based) each starts on. */
function splitDocuments(text: string): { text: string; line: number }[] {
  const docs: { text: string; line: number }[] = [];
  const marker = /^(---|\.\.\.)(?=[ \t\r]|$)/gm;
  let start = 0;
  let startLine = 1;
  let line = 1;
  let pos = 0;
  const countLines = (to: number) => {
    for (let i = text.indexOf('\n', pos); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) line++;
    pos = to;
  };
  for (let m = marker.exec(text); m; m = marker.exec(text)) {
    countLines(m.index);
    docs.push({ text: text.slice(start, m.index), line: startLine });
    const eol = text.indexOf('\n', m.index);
    // Content after "--- " on the marker line belongs to the next document.
    const isStart = m[1] === '---';
    start = isStart ? m.index + 3 : eol < 0 ? text.length : eol + 1;
    startLine = isStart ? line : line + 1;
  }
  docs.push({ text: text.slice(start), line: startLine });
  return docs.filter((d) => hasContent(d.text));
}

/** True when a document holds more than blank lines and comments. */
function hasContent(text: string): boolean {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else if (c === 35 /* # */) {
      const eol = text.indexOf('\n', i);
      if (eol < 0) return false;
      i = eol + 1;
    } else return true;
  }
  return false;
}

function leadingBlankLines(text: string): number {
  let n = 0;
  let i = 0;
  for (;;) {
    let j = i;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\r')) j++;
    if (j < text.length && text[j] === '#') j = text.indexOf('\n', j) < 0 ? text.length : text.indexOf('\n', j);
    if (j >= text.length || text[j] !== '\n') return n;
    n++;
    i = j + 1;
  }
}
export function readManifestFile(dir: string, file: string, maxBytes = MAX_MANIFEST_FILE_BYTES, o: ParseOptions = {}): FileContents {
  let text: string;
  try {
    text = readCapped(join(dir, file), maxBytes);
  } catch (e) {
    // As an unreadable subfolder is said (walk.ts): the file is already named, so not Node's
    // "EACCES: permission denied, open '<path>'" with its path again.
    const code = (e as NodeJS.ErrnoException).code;
    return { objects: [], errors: [{ file, line: 0, message: code ? `cannot be read: ${code}` : (e as Error).message }] };
  }
  return parseManifestText(text, file, o);
}

/** The file's text; an error when it holds more than maxBytes (never reading further than that). */
function readCapped(path: string, maxBytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const tooBig = () => new Error(`the file has more than ${maxBytes} bytes, the most a manifest file may have; refused`);
    if (size > maxBytes) throw tooBig();
    // The file may grow between fstat and the reads: count what is actually read.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const b = Buffer.allocUnsafe(Math.max(64 * 1024, size - total + 1));
      const r = readSync(fd, b, 0, b.length, null);
      if (r === 0) break;
      total += r;
      if (total > maxBytes) throw tooBig();
      chunks.push(r === b.length ? b : b.subarray(0, r));
    }
    return (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads the whole folder once. */
export function readManifestDir(dir: string): FileContents {
  const all: FileContents = { objects: [], errors: [] };
  for (const file of listManifestFiles(dir)) {
    const c = readManifestFile(dir, file);
    all.objects.push(...c.objects);
    all.errors.push(...c.errors);
  }
  return all;
}
