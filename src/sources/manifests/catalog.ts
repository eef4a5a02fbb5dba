// Which file defines which object. Objects are identified by kind/namespace/name; when two
// definitions collide, the first one wins: at start the first in file order, later the one
// already in effect (an edit elsewhere never takes an object away from its file). A file
// that stops parsing keeps its previous definitions until it parses again.
//
// The parsed objects are not kept: after the cluster has taken them (forgetObjects), a
// definition that lost to another holds its document's text, and objectOf parses it again
// when it takes over. A definition that won keeps only a digest of what it reads as: the
// cluster already has its object, and the only later question about it is whether a re-read
// of its file changed it (sameObject). A winner stays the winner until its own file changes
// (see replace), and then its file's new definitions come with their objects. At 100,000
// Pods this drops the file texts (~26 MB, which the documents' texts are slices of).
//
// Such a winner, when it is the only definition of its id, is then packed: its id, file,
// line and digest go into columns (PackedDefinitions) and the catalog's tables hold its slot
// number instead of an object, ~56 bytes less per object (~6 MB at 110,000). It is unpacked
// into a Definition again as soon as anything asks for it (winner(), a re-read of its file,
// a duplicate elsewhere), and packed again by the next forgetObjects().
import type { KubeObject } from '../../api/types.js';
import type { Pod } from '../pods/pod.js';
import { fingerprintOf } from '../../util/fingerprint.js';
import { parseManifestText, type FileContents, type ManifestError } from './read.js';

export interface Definition {
  id: string;
  file: string;
  line: number;
  /**
   * The document's text and the object's index among its items (see ManifestObject); the
   * text is dropped by forgetObjects() when the definition won (digest stands for it).
   */
  source: string | undefined;
  item: number;
  /** The parsed object, until forgetObjects(); never built for a `pod`. */
  object: KubeObject | undefined;
  /**
   * A common-shape Pod document read straight into its validated Pod (fast-pod.ts), until
   * forgetObjects(): the cluster takes it as it is, with no object to check.
   */
  pod: Pod | undefined;
  /**
   * A digest of what the object reads as: set from the start for a `pod`, else the first time
   * digest() is asked (at the latest when forgetObjects() drops the text of a winner).
   */
  digest: number | undefined;
}

/**
 * What an object reads as, in one number: equal digests are equal JSON (sameObject). A hash
 * walked over the parsed object (util/fingerprint.ts): no JSON text is built, and at 110,000
 * objects it takes ~150 ms where MD5 of each object's JSON took ~260 ms.
 */
function digestOf(o: KubeObject): number {
  return fingerprintOf(o);
}

export function objectId(o: KubeObject): string {
  const kind = typeof o.kind === 'string' ? o.kind : '';
  const m = (o.metadata ?? {}) as Record<string, unknown>;
  const namespace = kind === 'Node' ? '' : (typeof m.namespace === 'string' && m.namespace) || 'default';
  const name = typeof m.name === 'string' ? m.name : '';
  return [kind, namespace, name].join('/'); // one flat string, not a rope (see cluster.ts flatId)
}

export function splitId(id: string): { kind: string; namespace: string; name: string } {
  const a = id.indexOf('/');
  const b = id.indexOf('/', a + 1);
  return { kind: id.slice(0, a), namespace: id.slice(a + 1, b), name: id.slice(b + 1) };
}

const NONE: Definition[] = [];

/**
 * Applied winners that are the only definition of their id, one slot each: an 80-byte object
 * and a boxed digest become five array elements (the digests' array holds unboxed doubles).
 * A freed slot is reused.
 */
class PackedDefinitions {
  private readonly ids: string[] = [];
  private readonly files: number[] = [];
  private readonly lines: number[] = [];
  private readonly digests: number[] = [];
  /** Where the slot sits in its file's list (the lists only change while unpacked). */
  private readonly places: number[] = [];
  private readonly free: number[] = [];
  // File names by number: a slot holds a small integer, not a reference to the name.
  private readonly fileNames: string[] = [];
  private readonly fileNumbers = new Map<string, number>();

  pack(d: Definition, place: number): number {
    let file = this.fileNumbers.get(d.file);
    if (file === undefined) {
      file = this.fileNames.push(d.file) - 1;
      this.fileNumbers.set(d.file, file);
    }
    const slot = this.free.pop() ?? this.ids.length;
    this.ids[slot] = d.id;
    this.files[slot] = file;
    this.lines[slot] = d.line;
    this.digests[slot] = d.digest!;
    this.places[slot] = place;
    return slot;
  }

  /** The slot's definition as an object again; the slot is free afterwards. */
  unpack(slot: number): Definition {
    const d: Definition = {
      id: this.ids[slot],
      file: this.fileNames[this.files[slot]],
      line: this.lines[slot],
      source: undefined,
      item: 0,
      object: undefined,
      pod: undefined,
      digest: this.digests[slot],
    };
    this.ids[slot] = '';
    this.free.push(slot);
    return d;
  }

  placeOf(slot: number): number {
    return this.places[slot];
  }
}

export class ManifestCatalog {
  // file -> its definitions in file order; a number is a packed one's slot.
  private readonly byFile = new Map<string, (Definition | number)[]>();
  // id -> its definitions, the winner first. Nearly every id has one: that one is stored as
  // it is (or as its packed slot), a list only for an id defined more than once (a list per
  // id was ~6 MB at 110,000).
  private readonly byId = new Map<string, Definition | Definition[] | number>();
  private readonly fileErrors = new Map<string, ManifestError>();
  private readonly packed = new PackedDefinitions();

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
      // Every field is there from the start, so that setting one later does not give each of
      // 100,000s of definitions a separate property store (40 bytes each).
      contents.objects.map((o) => {
        const { line, source, item, fast } = o;
        return fast
          ? { id: fast.id, file, line, source, item, object: undefined, pod: fast.pod, digest: fast.digest }
          : { id: objectId(o.object), file, line, source, item, object: o.object, pod: undefined, digest: undefined };
      }),
    );
  }

  /**
   * The definition's object, parsed again from its text when it was forgotten. Not for a
   * winner that only a digest stands for (see applied()): the cluster has that one already.
   */
  objectOf(d: Definition): KubeObject {
    if (d.object) return d.object; // (a `pod` has none: its text is parsed, as a loser's is)
    const again = d.source === undefined ? undefined : parseManifestText(d.source, d.file).objects.find((o) => o.item === d.item);
    // The same text parsed before; it cannot fail now.
    if (!again) throw new Error(`${d.file}:${d.line}: the definition no longer parses`);
    return again.object;
  }

  /**
   * The digest of what the definition reads as, computed once (forgetObjects() keeps it for a
   * winner). Not for a winner that only its digest stands for: it has it already.
   */
  digest(d: Definition): number {
    return (d.digest ??= digestOf(this.objectOf(d)));
  }

  /**
   * True for a winner whose object and text were dropped: it was applied when it won and has
   * not changed since (a changed definition is a new one, with its object).
   */
  applied(d: Definition): boolean {
    return d.object === undefined && d.source === undefined;
  }

  /**
   * Drops the parsed objects of the given files (a loser's is parsed again if it takes
   * over); a winner keeps only the digest of its object. Call it after the cluster took them.
   */
  forgetObjects(files: Iterable<string>): void {
    for (const f of files) {
      const defs = this.byFile.get(f) ?? NONE;
      for (let i = 0; i < defs.length; i++) {
        const d = defs[i];
        if (typeof d === 'number') continue; // packed: forgotten already
        const alone = this.byId.get(d.id) === d;
        const fresh = d.object !== undefined || d.pod !== undefined;
        if (fresh && (alone || this.winner(d.id) === d)) {
          this.digest(d); // a `pod` came with its digest
          d.source = undefined;
        } else if (d.source !== undefined && fresh) {
          // A loser's text is a slice of its file's: copied, so that it does not hold the file.
          d.source = (' ' + d.source).slice(1);
        }
        d.object = undefined;
        d.pod = undefined;
        if (alone && this.applied(d)) this.byId.set(d.id, (defs[i] = this.packed.pack(d, i)));
      }
    }
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
    const l = this.known(id);
    return Array.isArray(l) ? l[0] : l;
  }

  /** The definitions that lost to the winner. */
  losers(id: string): Definition[] {
    const l = this.byId.get(id);
    return Array.isArray(l) && l.length > 1 ? l.slice(1) : NONE;
  }

  /** The id's definitions (the winner first), a packed one unpacked. */
  private known(id: string): Definition | Definition[] | undefined {
    const l = this.byId.get(id);
    if (typeof l !== 'number') return l;
    const place = this.packed.placeOf(l);
    const d = this.packed.unpack(l);
    this.byFile.get(d.file)![place] = d;
    this.byId.set(id, d);
    return d;
  }

  /** The file's definitions, the packed ones unpacked. */
  private definitionsOf(file: string): Definition[] | undefined {
    const defs = this.byFile.get(file);
    if (!defs) return undefined;
    for (let i = 0; i < defs.length; i++) {
      const slot = defs[i];
      if (typeof slot !== 'number') continue;
      const d = this.packed.unpack(slot);
      this.byId.set(d.id, (defs[i] = d));
    }
    return defs as Definition[];
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
    for (const d of this.definitionsOf(file) ?? []) {
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
      const known = this.known(id);
      const list = known === undefined ? NONE : Array.isArray(known) ? known : [known];
      const at = list.findIndex((d) => d.file === file);
      const others = list.filter((d) => d.file !== file);
      const mine = incoming.get(id) ?? [];
      // This file's definitions keep their place in the order; new ones go last.
      const next = at < 0 ? [...others, ...mine] : [...others.slice(0, at), ...mine, ...others.slice(at)];
      if (next.length > 0) this.byId.set(id, next.length === 1 ? next[0] : next);
      else this.byId.delete(id);
    }
    const kept = [...incoming.values()].flat();
    if (kept.length > 0) this.byFile.set(file, kept);
    else this.byFile.delete(file);
    return touched;
  }

  /** Same text (and place in it): the same object; else compare what they read as. */
  private sameObject(old: Definition, mine: Definition): boolean {
    if (old.source !== undefined && old.source === mine.source && old.item === mine.item) return true;
    if (old.digest !== undefined) return old.digest === this.digest(mine);
    return JSON.stringify(this.objectOf(old)) === JSON.stringify(this.objectOf(mine));
  }

  /** A file not seen before: its definitions simply go last (the common case at start). */
  private addNew(file: string, defs: Definition[]): Set<string> {
    const touched = new Set<string>();
    for (const d of defs) {
      const id = d.id;
      touched.add(id);
      const known = this.known(id);
      if (known === undefined) this.byId.set(id, d);
      else if (Array.isArray(known)) known.push(d);
      else this.byId.set(id, [known, d]);
    }
    if (defs.length > 0) this.byFile.set(file, defs);
    return touched;
  }
}
