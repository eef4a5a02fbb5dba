// random: a uniformly random usable backend.
import { never, type Backend, type Scheduler, type Skip } from './types.js';

/**
 * A uniformly random backend that is not skipped and not `not`: random draws first (uniform
 * among the usable ones), then, if n draws all missed, a walk so that it always ends.
 */
export function drawUsable(bs: readonly Backend[], rand: () => number, skip: Skip, not: Backend | null): Backend | null {
  const n = bs.length;
  for (let k = 0; k < n; k++) {
    const b = bs[Math.floor(rand() * n)];
    if (b !== not && !skip(b)) return b;
  }
  for (const b of bs) if (b !== not && !skip(b)) return b;
  return null;
}

export class RandomScheduler implements Scheduler {
  readonly name = 'random' as const;
  private backends: readonly Backend[] = [];

  constructor(private readonly rand: () => number = Math.random) {}

  setBackends(backends: readonly Backend[]): void {
    this.backends = backends;
  }

  pick(_flow: unknown, skip: Skip = never): Backend | null {
    const n = this.backends.length;
    if (n === 0) return null;
    return drawUsable(this.backends, this.rand, skip, null);
  }
}
