// Exhaustive exploration of random choices. A walk is deterministic given the answers to its
// random questions ("numgen random mod 3?", "statistic probability 1/3: taken?"); we replay it
// depth-first over every combination of answers, so each branch is visited exactly once and its
// probability is the product of its answers' probabilities (1/N each, or the weights the
// question gave). Nothing is sampled.
import { Fraction } from './fraction.js';

/**
 * Asks for a random integer in [0, n): uniformly, or answer i with probability weights[i]
 * (exact; they must add up to 1), e.g. a rule taken with probability 1/3: choose(2, [1/3, 2/3]).
 */
export type Choose = (n: number, weights?: readonly Fraction[]) => number;

export class TraceLimitError extends Error {}

export function exploreAll<T>(walk: (choose: Choose) => T, maxBranches = 100_000): { result: T; probability: Fraction }[] {
  const out: { result: T; probability: Fraction }[] = [];
  let prefix: number[] = [];
  for (;;) {
    const choices: number[] = [];
    const sizes: number[] = [];
    let p = Fraction.ONE;
    const result = walk((n, weights) => {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`random choice among ${n} options`);
      if (weights && weights.length !== n) throw new RangeError(`${weights.length} weights for ${n} options`);
      const i = choices.length;
      const c = i < prefix.length ? prefix[i] : 0;
      choices.push(c);
      sizes.push(n);
      p = p.times(weights ? weights[c] : Fraction.of(1, n));
      return c;
    });
    out.push({ result, probability: p });
    if (out.length > maxBranches) throw new TraceLimitError(`more than ${maxBranches} random branches; the trace was abandoned`);
    // Next combination: bump the last choice that has options left, drop everything after it.
    let j = choices.length - 1;
    while (j >= 0 && choices[j] >= sizes[j] - 1) j--;
    if (j < 0) return out;
    prefix = [...choices.slice(0, j), choices[j] + 1];
  }
}
