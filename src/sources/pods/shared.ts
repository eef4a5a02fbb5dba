// A folder of 100,000 Pods repeats itself: the same namespace, node, label pairs and container
// specs in Pod after Pod. What validatePod keeps for as long as a Pod exists is shared:
// strings are stored once, and equal label sets and probe-less container lists are one
// frozen object each (nothing downstream changes a validated Pod). The tables are bounded;
// past the bound they start again, which only costs sharing, never correctness.

/** The shape of pod.ts's Container (not imported: pod.ts imports this file). */
interface ContainerLike {
  name: string;
  ports: { name: string; containerPort: number; protocol: string }[];
  readinessProbe: unknown;
}

const LIMIT = 200_000;

const strings = new Map<string, string>();
/** One string object for equal texts. */
export function intern(s: string): string {
  if (s === '') return s;
  const known = strings.get(s);
  if (known !== undefined) return known;
  if (strings.size >= LIMIT) strings.clear();
  strings.set(s, s);
  return s;
}

const labelSets = new Map<string, Readonly<Record<string, string>>>();
// The last set shared, as its pairs in order: Pods of one workload come one after another in
// a folder, and comparing with the last set costs less than building the table's key.
let lastLabels: Readonly<Record<string, string>> | null = null;
const lastPairs: string[] = [];

/**
 * The last label set shared, when `raw` (a manifest's labels, not validated yet) holds
 * exactly its pairs in the same order; else null. Such labels need no checking (every value
 * is the string it equals) and no interning: what sharedLabels would give them is this set.
 */
export function lastSharedLabels(raw: Readonly<Record<string, unknown>>): Record<string, string> | null {
  if (!lastLabels) return null;
  let i = 0;
  for (const k in raw) {
    if (!Object.prototype.hasOwnProperty.call(raw, k)) continue;
    if (i >= lastPairs.length || lastPairs[i] !== k || lastPairs[i + 1] !== raw[k]) return null;
    i += 2;
  }
  return i === lastPairs.length ? (lastLabels as Record<string, string>) : null;
}

/**
 * One frozen object for equal label sets (same pairs in the same order). Its caller has
 * asked lastSharedLabels() first, so the last set is not compared again here.
 */
export function sharedLabels(labels: Record<string, string>): Record<string, string> {
  let key = '';
  for (const k in labels) key += `${k}\u0000${labels[k]}\u0000`;
  let known = labelSets.get(key);
  if (!known) {
    if (labelSets.size >= LIMIT) labelSets.clear();
    known = Object.freeze(labels);
    labelSets.set(key, known);
  }
  lastLabels = known;
  lastPairs.length = 0;
  for (const k in known) lastPairs.push(k, known[k]);
  return known as Record<string, string>;
}

const containerLists = new Map<string, readonly ContainerLike[]>();
let lastContainers: readonly ContainerLike[] | null = null; // the last list shared (see lastLabels)

function sameContainers(a: readonly ContainerLike[], b: readonly ContainerLike[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.readinessProbe || x.name !== y.name || x.ports.length !== y.ports.length) return false;
    for (let j = 0; j < x.ports.length; j++) {
      const p = x.ports[j];
      const q = y.ports[j];
      if (p.name !== q.name || p.containerPort !== q.containerPort || p.protocol !== q.protocol) return false;
    }
  }
  return true;
}

/**
 * One frozen list for equal container lists without readiness probes (a probe is per Pod
 * state in the prober; such lists are kept as they are).
 */
export function sharedContainers<C extends ContainerLike>(containers: C[]): C[] {
  if (lastContainers && sameContainers(containers, lastContainers)) return lastContainers as C[];
  let key = '';
  for (const c of containers) {
    if (c.readinessProbe) return containers;
    key += `${c.name}\u0001`;
    for (const p of c.ports) key += `${p.name}\u0000${p.containerPort}\u0000${p.protocol}\u0000`;
    key += '\u0002';
  }
  let known = containerLists.get(key);
  if (!known) {
    if (containerLists.size >= LIMIT) containerLists.clear();
    for (const c of containers) {
      for (const p of c.ports) Object.freeze(p);
      Object.freeze(c.ports);
      Object.freeze(c);
    }
    known = Object.freeze(containers);
    containerLists.set(key, known);
  }
  lastContainers = known;
  return known as C[];
}
