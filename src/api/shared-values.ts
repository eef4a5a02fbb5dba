// Validated objects live as long as kproxy knows them (100,000s of endpoints): what repeats
// is shared, and shared values are frozen (nothing downstream changes a validated object).
// validate.ts builds its results with these, and so does every producer that hands the
// model an already-validated object (the standalone EndpointSlice controller), so that both
// paths give the same shapes.
import type { EndpointConditions } from './types.js';

/** The eight combinations of endpoint conditions, one frozen object each. */
const CONDITIONS: readonly EndpointConditions[] = Array.from({ length: 8 }, (_, i) => Object.freeze({ ready: (i & 4) !== 0, serving: (i & 2) !== 0, terminating: (i & 1) !== 0 }));

export function sharedConditions(ready: boolean, serving: boolean, terminating: boolean): EndpointConditions {
  return CONDITIONS[(ready ? 4 : 0) | (serving ? 2 : 0) | (terminating ? 1 : 0)];
}

/** The one empty list validated objects share. */
export const NONE = Object.freeze([]) as readonly string[] as string[];
export const orNone = (l: string[]): string[] => (l.length === 0 ? NONE : l);

/** Node names and zones repeat across every endpoint of the cluster: one string each. */
const interned = new Map<string, string>();
export function internName(s: string): string {
  if (s === '') return s;
  const known = interned.get(s);
  if (known !== undefined) return known;
  if (interned.size >= 100_000) interned.clear(); // a bound, not a cache policy: names are few
  interned.set(s, s);
  return s;
}
