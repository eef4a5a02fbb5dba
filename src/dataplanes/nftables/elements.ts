// Who owns the elements of the global sets and maps. When several owners claim one key (two
// Services on one external IP and port), the first in render order (global elements, then
// service ports by key) wins, in full and partial syncs alike.
//  - ElementIndex holds every claim: it renders a table from its compiled ports (`kproxy rules`).
//  - ClaimIndex is what the applier keeps between syncs: only which service ports have
//    elements in each scope (address), about 10 times fewer entries than elements and no
//    element text at all. A partial sync compiles the few ports that share a scope with a
//    changed one to find which claim wins (diff.ts).

/** One element of a global set or map. value is "" for a set. */
export interface ElementRef {
  set: string;
  key: string;
  value: string;
  /** The service port key that wants it ("" for global elements). */
  owner: string;
  /**
   * What the key is about: the address in it (a ClusterIP, external or LB IP, an endpoint
   * for the hairpin set) or ":nodePort". Two equal keys of one set always have the same
   * scope, so owners can only clash on an element within a scope they share (ClaimIndex).
   */
  scope: string;
}

/** Element changes to one set, as the partial planner renders them in one `add/delete element` line. */
export interface ElementOp {
  family: 'ip' | 'ip6';
  verb: 'add' | 'delete';
  set: string;
  /** Keys ("a . b") for delete; keys and values for add (value "" for a set). */
  items: { key: string; value: string }[];
}

type Claims = ElementRef | ElementRef[];

export class ElementIndex {
  private readonly bySet = new Map<string, Map<string, Claims>>();

  /** The value in effect for set/key, or undefined when no one claims it. */
  effective(set: string, key: string): string | undefined {
    const c = this.bySet.get(set)?.get(key);
    return c === undefined ? undefined : Array.isArray(c) ? c[0].value : c.value;
  }

  add(e: ElementRef): void {
    let m = this.bySet.get(e.set);
    if (!m) this.bySet.set(e.set, (m = new Map()));
    const c = m.get(e.key);
    if (c === undefined) {
      m.set(e.key, e);
      return;
    }
    const list = Array.isArray(c) ? c : [c];
    let i = list.length;
    while (i > 0 && list[i - 1].owner > e.owner) i--;
    list.splice(i, 0, e);
    if (!Array.isArray(c)) m.set(e.key, list);
  }

  remove(e: ElementRef): void {
    const m = this.bySet.get(e.set);
    const c = m?.get(e.key);
    if (c === undefined) return;
    if (!Array.isArray(c)) {
      if (c.owner === e.owner && c.value === e.value) m!.delete(e.key);
      return;
    }
    const i = c.findIndex((x) => x.owner === e.owner && x.value === e.value);
    if (i >= 0) c.splice(i, 1);
    if (c.length === 1) m!.set(e.key, c[0]);
    else if (c.length === 0) m!.delete(e.key);
  }

  /**
   * Calls fn for every effective element, set by set in insertion order, with its position in
   * its set and the set's size (a renderer breaks its lines on those).
   */
  forEachEffective(fn: (e: ElementRef, i: number, size: number) => void): void {
    for (const m of this.bySet.values()) {
      let i = 0;
      const size = m.size;
      for (const c of m.values()) fn(Array.isArray(c) ? c[0] : c, i++, size);
    }
  }

  /**
   * Every set with its effective elements ("key" or "key : value"), in insertion order, at
   * most `chunk` at a time: a full sync renders them a line at a time instead of holding
   * every element's text at once (a few hundred thousand strings at 10,000 Services).
   */
  *rendered(chunk = Infinity): Generator<[string, string[]]> {
    for (const [set, m] of this.bySet) {
      let items: string[] = [];
      for (const c of m.values()) {
        const e = Array.isArray(c) ? c[0] : c;
        items.push(e.value === '' ? e.key : `${e.key} : ${e.value}`);
        if (items.length >= chunk) {
          yield [set, items];
          items = [];
        }
      }
      if (items.length > 0) yield [set, items];
    }
  }
}

const NONE: readonly string[] = [];

/** The service ports with elements in each scope, in key (render) order. */
export class ClaimIndex {
  private readonly byScope = new Map<string, string | string[]>();

  /** The owners of a scope, first in render order first. */
  owners(scope: string): readonly string[] {
    const o = this.byScope.get(scope);
    return o === undefined ? [] : typeof o === 'string' ? [o] : o;
  }

  /**
   * Records owner in scope; returns the owners that were there before it (none: it is alone).
   * Owners are claimed in key order by a full sync, in any order by a partial one.
   */
  claim(scope: string, owner: string): readonly string[] {
    const o = this.byScope.get(scope);
    if (o === undefined) {
      this.byScope.set(scope, owner);
      return NONE;
    }
    if (o === owner) return NONE;
    const list = typeof o === 'string' ? [o] : o;
    const i = list.indexOf(owner);
    if (i >= 0) return list.slice(0, i); // (earlier owners only: later ones do not beat it)
    let at = list.length;
    while (at > 0 && list[at - 1] > owner) at--;
    const before = list.slice(0, at);
    list.splice(at, 0, owner);
    if (typeof o === 'string') this.byScope.set(scope, list);
    return before;
  }

  release(scope: string, owner: string): void {
    const o = this.byScope.get(scope);
    if (o === undefined) return;
    if (typeof o === 'string') {
      if (o === owner) this.byScope.delete(scope);
      return;
    }
    const i = o.indexOf(owner);
    if (i >= 0) o.splice(i, 1);
    if (o.length === 1) this.byScope.set(scope, o[0]);
    else if (o.length === 0) this.byScope.delete(scope);
  }

  get size(): number {
    return this.byScope.size;
  }
}
