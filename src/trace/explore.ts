// Exhaustive exploration of random choices. A walk is deterministic given the answers to its
// random questions ("numgen random mod 3?"); we replay it depth-first over every combination of
// answers, so each branch is visited exactly once and its probability is the product of 1/N.
// Nothing is sampled.
import { Fraction } from './fraction.js';

/** Asks for a uniformly random integer in [0, n). */
export type Choose = (n: number) => number;

export class TraceLimitError extends Error {}

export function exploreAll<T>(walk: (choose: Choose) => T, maxBranches = 100_000): { result: T; probability: Fraction }[] {
  const out: { result: T; probability: Fraction }[] = [];
  let prefix: number[] = [];
  for (;;) {
    const choices: number[] = [];
    const sizes: number[] = [];
    const result = walk((n) => {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`random choice among ${n} options`);
      const i = choices.length;
      const c = i < prefix.length ? prefix[i] : 0;
      choices.push(c);
      sizes.push(n);
      return c;
    });
    let p = Fraction.ONE;
    for (const n of sizes) p = p.times(Fraction.of(1, n));
    out.push({ result, probability: p });
    if (out.length > maxBranches) throw new TraceLimitError(`more than ${maxBranches} random branches; the trace was abandoned`);
    // Next combination: bump the last choice that has options left, drop everything after it.
    let j = choices.length - 1;
    while (j >= 0 && choices[j] >= sizes[j] - 1) j--;
    if (j < 0) return out;
    prefix = [...choices.slice(0, j), choices[j] + 1];
  }
}
