// The connection-counting schedulers of IPVS, on active connections (a userspace proxy has no
// "inactive" TCP states to count):
//  - lc  (least connection): the backend with the fewest active connections per unit weight;
//  - sed (shortest expected delay): the smallest (active + 1) / weight;
//  - nq  (never queue): an idle backend if there is one, else as sed.
// Ties go to the first backend in the list, as in IPVS.
import { never, type Backend, type Scheduler, type Skip } from './types.js';

abstract class Counting implements Scheduler {
  abstract readonly name: 'lc' | 'sed' | 'nq';
  protected backends: readonly Backend[] = [];

  setBackends(backends: readonly Backend[]): void {
    this.backends = backends;
  }

  protected abstract cost(b: Backend): number;

  pick(_flow: unknown, skip: Skip = never): Backend | null {
    let best: Backend | null = null;
    let bestCost = Infinity;
    for (const b of this.backends) {
      if (b.weight <= 0 || skip(b)) continue;
      const c = this.cost(b);
      if (c < bestCost) {
        best = b;
        bestCost = c;
      }
    }
    return best;
  }
}

export class LeastConnection extends Counting {
  readonly name = 'lc' as const;
  protected cost(b: Backend): number {
    return b.active / b.weight;
  }
}

export class ShortestExpectedDelay extends Counting {
  readonly name = 'sed' as const;
  protected cost(b: Backend): number {
    return (b.active + 1) / b.weight;
  }
}

export class NeverQueue extends Counting {
  readonly name = 'nq' as const;
  protected cost(b: Backend): number {
    return b.active === 0 ? -b.weight : (b.active + 1) / b.weight;
  }
}
