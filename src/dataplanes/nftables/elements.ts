// Which service port owns each element of the global sets and maps, so that a partial sync
// can add and delete exactly the elements whose effective value changed. When several
// owners claim one key (two Services on one external IP and port), the first in render order
// (global elements, then service ports by key) wins, in full and partial syncs alike.
// Kept lean: one map per set, and a claim is the ElementRef itself (an array only on a clash),
// because a 10,000-Service table has a few hundred thousand elements.

/** One element of a global set or map. value is "" for a set. */
export interface ElementRef {
  set: string;
  key: string;
  value: string;
  /** The service port key that wants it ("" for global elements). */
  owner: string;
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
