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
/** One frozen object for equal label sets (same pairs in the same order). */
export function sharedLabels(labels: Record<string, string>): Record<string, string> {
  let key = '';
  for (const k in labels) key += `${k}\u0000${labels[k]}\u0000`;
  const known = labelSets.get(key);
  if (known) return known as Record<string, string>;
  if (labelSets.size >= LIMIT) labelSets.clear();
  const frozen = Object.freeze(labels);
  labelSets.set(key, frozen);
  return frozen;
}

const containerLists = new Map<string, readonly ContainerLike[]>();
/**
 * One frozen list for equal container lists without readiness probes (a probe is per Pod
 * state in the prober; such lists are kept as they are).
 */
export function sharedContainers<C extends ContainerLike>(containers: C[]): C[] {
  let key = '';
  for (const c of containers) {
    if (c.readinessProbe) return containers;
    key += `${c.name}\u0001`;
    for (const p of c.ports) key += `${p.name}\u0000${p.containerPort}\u0000${p.protocol}\u0000`;
    key += '\u0002';
  }
  const known = containerLists.get(key);
  if (known) return known as C[];
  if (containerLists.size >= LIMIT) containerLists.clear();
  for (const c of containers) {
    for (const p of c.ports) Object.freeze(p);
    Object.freeze(c.ports);
    Object.freeze(c);
  }
  const frozen = Object.freeze(containers);
  containerLists.set(key, frozen);
  return frozen as C[];
}
