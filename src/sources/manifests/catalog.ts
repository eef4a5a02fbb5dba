// Which file defines which object. Objects are identified by kind/namespace/name; when two
// definitions collide, the first one wins: at start the first in file order, later the one
// already in effect (an edit elsewhere never takes an object away from its file). A file
// that stops parsing keeps its previous definitions until it parses again.
//
// The parsed objects are not kept: after the cluster has taken them (forgetObjects), a
// definition holds its document's text, which is a slice of the file's text (a few bytes of
// its own), and objectOf parses it again when the object is needed (a duplicate taking
// over, an edit that changed the text). At 100,000 Pods that is the file text (~30 MB)
// instead of the parsed objects (several times that, all of it for the GC to walk).
import type { KubeObject } from '../../api/types.js';
import { parseManifestText, type FileContents, type ManifestError } from './read.js';

export interface Definition {
  id: string;
  file: string;
  line: number;
  /** The document's text and the object's index among its items (see ManifestObject). */
  source: string;
  item: number;
  /** The parsed object, until forgetObjects(). */
  object: KubeObject | undefined;
}

export function objectId(o: KubeObject): string {
  const kind = typeof o.kind === 'string' ? o.kind : '';
  const m = (o.metadata ?? {}) as Record<string, unknown>;
  const namespace = kind === 'Node' ? '' : (typeof m.namespace === 'string' && m.namespace) || 'default';
  const name = typeof m.name === 'string' ? m.name : '';
  return `${kind}/${namespace}/${name}`;
}

export function splitId(id: string): { kind: string; namespace: string; name: string } {
  const a = id.indexOf('/');
  const b = id.indexOf('/', a + 1);
  return { kind: id.slice(0, a), namespace: id.slice(a + 1, b), name: id.slice(b + 1) };
}

const NONE: Definition[] = [];

export class ManifestCatalog {
  private readonly byFile = new Map<string, Definition[]>();
  private readonly byId = new Map<string, Definition[]>();
  private readonly fileErrors = new Map<string, ManifestError>();

  /**
   * Replaces what one file defines. A file with a parse error keeps its previous objects and
   * records the error instead; a file with only skipped documents (`partial`) records the
   * error and still defines its other objects. Returns every id the file defined before or
   * defines now.
   */
  setFile(file: string, contents: FileContents): Set<string> {
    if (contents.errors.length > 0) {
      this.fileErrors.set(file, contents.errors[0]);
      if (!contents.partial) return new Set();
    } else this.fileErrors.delete(file);
    return this.replace(
      file,
      contents.objects.map((o) => ({ id: objectId(o.object), file, line: o.line, source: o.source, item: o.item, object: o.object })),
    );
  }

  /** The definition's object, parsed again from its text when it was forgotten. */
  objectOf(d: Definition): KubeObject {
    if (d.object) return d.object;
    const again = parseManifestText(d.source, d.file).objects.find((o) => o.item === d.item);
    // The same text parsed before; it cannot fail now.
    if (!again) throw new Error(`${d.file}:${d.line}: the definition no longer parses`);
    return again.object;
  }

  /** Drops the parsed objects of the given files (they are parsed again on demand). */
  forgetObjects(files: Iterable<string>): void {
    for (const f of files) for (const d of this.byFile.get(f) ?? NONE) d.object = undefined;
  }

  removeFile(file: string): Set<string> {
    this.fileErrors.delete(file);
    return this.replace(file, []);
  }

  /** How many definitions the file currently contributes. */
  definedIn(file: string): number {
    return this.byFile.get(file)?.length ?? 0;
  }

  winner(id: string): Definition | undefined {
    return this.byId.get(id)?.[0];
  }

  /** The definitions that lost to the winner. */
  losers(id: string): Definition[] {
    const l = this.byId.get(id);
    return l && l.length > 1 ? l.slice(1) : NONE;
  }

  ids(): IterableIterator<string> {
    return this.byId.keys();
  }

  errors(): ReadonlyMap<string, ManifestError> {
    return this.fileErrors;
  }

  private replace(file: string, defs: Definition[]): Set<string> {
    if (!this.byFile.has(file)) return this.addNew(file, defs);
    const touched = new Set<string>();
    const incoming = new Map<string, Definition[]>();
    for (const d of defs) {
      const id = d.id;
      let l = incoming.get(id);
      if (!l) incoming.set(id, (l = []));
      l.push(d);
    }
    const before = new Map<string, Definition[]>();
    for (const d of this.byFile.get(file) ?? []) {
      const id = d.id;
      const l = before.get(id);
      if (l) l.push(d);
      else before.set(id, [d]);
    }
    // An object that reads the same as before is not a change: keep the old definition (so
    // that nothing downstream re-examines the other 999 Pods of a file where one changed).
    const same = new Set<string>();
    for (const [id, mine] of incoming) {
      const old = before.get(id);
      if (old?.length !== 1 || mine.length !== 1 || !this.sameObject(old[0], mine[0])) continue;
      old[0].line = mine[0].line;
      mine[0] = old[0];
      same.add(id);
    }
    for (const id of before.keys()) if (!same.has(id)) touched.add(id);
    for (const id of incoming.keys()) if (!same.has(id)) touched.add(id);
    for (const id of touched) {
      const list = this.byId.get(id) ?? [];
      const at = list.findIndex((d) => d.file === file);
      const others = list.filter((d) => d.file !== file);
      const mine = incoming.get(id) ?? [];
      // This file's definitions keep their place in the order; new ones go last.
      const next = at < 0 ? [...others, ...mine] : [...others.slice(0, at), ...mine, ...others.slice(at)];
      if (next.length > 0) this.byId.set(id, next);
      else this.byId.delete(id);
    }
    const kept = [...incoming.values()].flat();
    if (kept.length > 0) this.byFile.set(file, kept);
    else this.byFile.delete(file);
    return touched;
  }

  /** Same text (and place in it): the same object; else compare what they read as. */
  private sameObject(old: Definition, mine: Definition): boolean {
    if (old.source === mine.source && old.item === mine.item) return true;
    return JSON.stringify(this.objectOf(old)) === JSON.stringify(this.objectOf(mine));
  }

  /** A file not seen before: its definitions simply go last (the common case at start). */
  private addNew(file: string, defs: Definition[]): Set<string> {
    const touched = new Set<string>();
    for (const d of defs) {
      const id = d.id;
      touched.add(id);
      const list = this.byId.get(id);
      if (list) list.push(d);
      else this.byId.set(id, [d]);
    }
    if (defs.length > 0) this.byFile.set(file, defs);
    return touched;
  }
}
