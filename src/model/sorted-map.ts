// A persistent map from string keys, iterated in key order: every snapshot of the model is one
// of these, and the next snapshot shares all of it but the few nodes on the paths to what
// changed. Copying a Map of 10,000 Services per EndpointSlice change cost more than the
// dataplane's whole partial sync; editing one of these costs O(log n) whatever the size.
//
// A B+tree of at most WIDTH keys per node: leaves hold keys and values, inner nodes the first
// key of each child. Nodes left small by deletions are not merged (the tree never gets deeper
// than the largest map it held, and a full sync rebuilds nothing), which keeps it short.
// Edits go through a Draft: nodes the draft created are changed in place, any other node is
// copied once, so a snapshot that was handed out never changes.

const WIDTH = 32;

interface Node<V> {
  /** The draft allowed to change this node in place (null: frozen, shared). */
  owner: object | null;
  keys: string[];
  /** Leaf: the values, parallel to keys. Inner: null. */
  vals: V[] | null;
  /** Inner: the children, keys[i] being the first key under kids[i]. Leaf: null. */
  kids: Node<V>[] | null;
}

/** First index whose key is ≥ k. */
function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The child of an inner node whose range holds k (the first one when k is below them all). */
function childIndex(keys: readonly string[], k: string): number {
  const i = lowerBound(keys, k);
  return i < keys.length && keys[i] === k ? i : Math.max(0, i - 1);
}

/** Counts entries that iteration visits, for tests that check a change walks only what changed. */
export const sortedMapStats = { visited: 0 };

export class SortedMap<V> implements ReadonlyMap<string, V> {
  private static readonly EMPTY = new SortedMap<never>(null, 0);

  private constructor(
    private readonly root: Node<V> | null,
    readonly size: number,
  ) {}

  static empty<V>(): SortedMap<V> {
    return SortedMap.EMPTY as unknown as SortedMap<V>;
  }

  static from<V>(entries: Iterable<readonly [string, V]>): SortedMap<V> {
    const d = SortedMap.empty<V>().edit();
    for (const [k, v] of entries) d.set(k, v);
    return d.finish();
  }

  get(k: string): V | undefined {
    return find(this.root, k, undefined);
  }

  has(k: string): boolean {
    return find(this.root, k, MISSING) !== MISSING;
  }

  /** A draft of the next version; this map stays as it is. */
  edit(): SortedMapDraft<V> {
    return new SortedMapDraft(this.root, this.size, (root, size) => new SortedMap(root, size));
  }

  *entries(): MapIterator<[string, V]> {
    for (const leaf of leaves(this.root)) {
      sortedMapStats.visited += leaf.keys.length;
      for (let i = 0; i < leaf.keys.length; i++) yield [leaf.keys[i], leaf.vals![i]];
    }
  }

  *keys(): MapIterator<string> {
    for (const leaf of leaves(this.root)) {
      sortedMapStats.visited += leaf.keys.length;
      yield* leaf.keys;
    }
  }

  *values(): MapIterator<V> {
    for (const leaf of leaves(this.root)) {
      sortedMapStats.visited += leaf.keys.length;
      yield* leaf.vals!;
    }
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  get [Symbol.toStringTag](): string {
    return 'SortedMap';
  }
}

const MISSING = Symbol('missing');

function find<V, D>(root: Node<V> | null, k: string, dflt: D): V | D {
  let n = root;
  if (n === null) return dflt;
  while (n.kids !== null) n = n.kids[childIndex(n.keys, k)];
  const i = lowerBound(n.keys, k);
  return i < n.keys.length && n.keys[i] === k ? n.vals![i] : dflt;
}

function* leaves<V>(n: Node<V> | null): Generator<Node<V>, undefined, undefined> {
  if (n === null) return;
  if (n.kids === null) {
    yield n;
    return;
  }
  for (const kid of n.kids) yield* leaves(kid);
}

/** Edits of one SortedMap, made into the next version by finish(). */
export class SortedMapDraft<V> {
  private token: object = {};

  constructor(
    private root: Node<V> | null,
    private count: number,
    private readonly make: (root: Node<V> | null, size: number) => SortedMap<V>,
  ) {}

  get size(): number {
    return this.count;
  }

  get(k: string): V | undefined {
    return find(this.root, k, undefined);
  }

  set(k: string, v: V): void {
    if (this.root === null) {
      this.root = { owner: this.token, keys: [k], vals: [v], kids: null };
      this.count = 1;
      return;
    }
    const [a, b] = this.insert(this.root, k, v);
    this.root = b === undefined ? a : { owner: this.token, keys: [a.keys[0], b.keys[0]], vals: null, kids: [a, b] };
  }

  /** Removes k; false when it was not there. */
  delete(k: string): boolean {
    if (this.root === null) return false;
    const r = this.remove(this.root, k);
    if (r === undefined) return false;
    let root = r;
    while (root !== null && root.kids !== null && root.kids.length === 1) root = root.kids[0];
    this.root = root;
    return true;
  }

  /** The new version. Later edits through this draft copy again: the result never changes. */
  finish(): SortedMap<V> {
    this.token = {};
    return this.make(this.root, this.count);
  }

  private own(n: Node<V>): Node<V> {
    if (n.owner === this.token) return n;
    return { owner: this.token, keys: n.keys.slice(), vals: n.vals && n.vals.slice(), kids: n.kids && n.kids.slice() };
  }

  /** Inserts into the subtree n; returns it, or the two halves it was split into. */
  private insert(n: Node<V>, k: string, v: V): [Node<V>, Node<V>?] {
    const m = this.own(n);
    if (m.kids === null) {
      const i = lowerBound(m.keys, k);
      if (i < m.keys.length && m.keys[i] === k) {
        m.vals![i] = v;
        return [m];
      }
      m.keys.splice(i, 0, k);
      m.vals!.splice(i, 0, v);
      this.count++;
    } else {
      const i = childIndex(m.keys, k);
      const [a, b] = this.insert(m.kids[i], k, v);
      m.kids[i] = a;
      m.keys[i] = a.keys[0];
      if (b !== undefined) {
        m.kids.splice(i + 1, 0, b);
        m.keys.splice(i + 1, 0, b.keys[0]);
      }
    }
    if (m.keys.length <= WIDTH) return [m];
    const half = m.keys.length >>> 1;
    const right: Node<V> = { owner: this.token, keys: m.keys.splice(half), vals: m.vals && m.vals.splice(half), kids: m.kids && m.kids.splice(half) };
    return [m, right];
  }

  /** Removes k from the subtree n: its new version, null when it became empty, undefined when k was not there. */
  private remove(n: Node<V>, k: string): Node<V> | null | undefined {
    if (n.kids === null) {
      const i = lowerBound(n.keys, k);
      if (i >= n.keys.length || n.keys[i] !== k) return undefined;
      const m = this.own(n);
      m.keys.splice(i, 1);
      m.vals!.splice(i, 1);
      this.count--;
      return m.keys.length > 0 ? m : null;
    }
    const i = childIndex(n.keys, k);
    const r = this.remove(n.kids[i], k);
    if (r === undefined) return undefined;
    const m = this.own(n);
    if (r === null) {
      m.kids!.splice(i, 1);
      m.keys.splice(i, 1);
    } else {
      m.kids![i] = r;
      m.keys[i] = r.keys[0];
    }
    return m.keys.length > 0 ? m : null;
  }
}
