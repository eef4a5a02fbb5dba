// Reads a folder of ordinary Kubernetes manifests: every .yaml, .yml and .json file below
// it, multi-document YAML and `kind: List` included. A file that does not parse is reported
// with its path and line; its neighbours are unaffected.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../api/types.js';

export interface ManifestObject {
  object: KubeObject;
  file: string; // path relative to the folder
  line: number; // 1-based line where the object starts
}

export interface ManifestError {
  file: string;
  line: number;
  message: string;
}

export interface FileContents {
  objects: ManifestObject[];
  errors: ManifestError[];
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/** Every manifest file below dir, sorted, as paths relative to dir. */
export function listManifestFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && MANIFEST_FILE.test(name)) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/** Parses one file's text. Any parse error makes the whole file an error (nothing half-read). */
export function parseManifestText(text: string, file: string): FileContents {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const list = Array.isArray(docs) ? docs : [docs];
  const objects: ManifestObject[] = [];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const line = lines.linePos(err.pos[0]).line;
      return { objects: [], errors: [{ file, line, message: err.message.split('\n')[0] }] };
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown;
    const line = doc.contents ? lines.linePos(doc.contents.range[0]).line : 1;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      return { objects: [], errors: [{ file, line, message: 'expected a Kubernetes object (a mapping with apiVersion and kind)' }] };
    }
    const o = value as KubeObject;
    if (o.kind === 'List' || (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items))) {
      for (const item of (o.items as unknown[]) ?? []) {
        if (item && typeof item === 'object' && !Array.isArray(item)) objects.push({ object: item as KubeObject, file, line });
      }
    } else {
      objects.push({ object: o, file, line });
    }
  }
  return { objects, errors: [] };
}

export function readManifestFile(dir: string, file: string): FileContents {
  let text: string;
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch (e) {
    return { objects: [], errors: [{ file, line: 0, message: (e as Error).message }] };
  }
  return parseManifestText(text, file);
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
