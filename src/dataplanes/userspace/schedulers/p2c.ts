// p2c: the power of two random choices. Two distinct usable backends are drawn at random and
// the one with fewer active connections (per unit weight) wins: nearly least-connection load
// with no scan of the whole set and no herd onto one freshly idle backend.
import { drawUsable } from './random.js';
import { never, type Backend, type Scheduler, type Skip } from './types.js';

export class PowerOfTwoChoices implements Scheduler {
  readonly name = 'p2c' as const;
  private backends: readonly Backend[] = [];

  constructor(private readonly rand: () => number = Math.random) {}

  setBackends(backends: readonly Backend[]): void {
    this.backends = backends.filter((b) => b.weight > 0);
  }

  pick(_flow: unknown, skip: Skip = never): Backend | null {
    const a = drawUsable(this.backends, this.rand, skip, null);
    if (!a) return null;
    const b = drawUsable(this.backends, this.rand, skip, a);
    if (!b) return a;
    return b.active / b.weight < a.active / a.weight ? b : a;
  }
}
