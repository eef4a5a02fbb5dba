// rr: round robin, the old userspace proxy's and IPVS's default. Each pick takes the next
// backend after the previous pick, so N picks over N backends visit each exactly once.
import { never, type Backend, type Scheduler, type Skip } from './types.js';

export class RoundRobin implements Scheduler {
  readonly name = 'rr' as const;
  private backends: readonly Backend[] = [];
  private last: string | null = null;
  private next = 0;

  setBackends(backends: readonly Backend[]): void {
    this.backends = backends;
    // continue after the last pick if it is still there (IPVS keeps its place in the list)
    const i = this.last === null ? -1 : backends.findIndex((b) => b.id === this.last);
    this.next = i < 0 ? 0 : (i + 1) % Math.max(1, backends.length);
  }

  pick(_flow: unknown, skip: Skip = never): Backend | null {
    const n = this.backends.length;
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      const b = this.backends[i];
      if (skip(b)) continue;
      this.next = (i + 1) % n;
      this.last = b.id;
      return b;
    }
    return null;
  }
}
