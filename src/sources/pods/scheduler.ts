// One timer for any number of periodic jobs: a binary min-heap of due times and a single
// setTimeout armed for the earliest. 2,000 probing Pods cost one timer, not 2,000 intervals.
export interface Job {
  due: number; // ms (performance.now() clock)
  run: () => void;
  /** Position in the heap, -1 when not scheduled. */
  index: number;
}

export class Scheduler {
  private readonly heap: Job[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private stopped = false;

  now(): number {
    return performance.now();
  }

  job(run: () => void): Job {
    return { due: 0, run, index: -1 };
  }

  /** (Re)schedules job at time due. */
  at(job: Job, due: number): void {
    if (this.stopped) return;
    if (job.index >= 0) this.remove(job);
    job.due = due;
    job.index = this.heap.length;
    this.heap.push(job);
    this.up(job.index);
    this.arm();
  }

  cancel(job: Job): void {
    if (job.index >= 0) this.remove(job);
    this.arm();
  }

  get size(): number {
    return this.heap.length;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const j of this.heap) j.index = -1;
    this.heap.length = 0;
  }

  private arm(): void {
    const first = this.heap[0];
    const due = first ? first.due : Infinity;
    if (due === this.timerDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = due;
    if (due === Infinity) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - this.now()));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = null;
    this.timerDue = Infinity;
    const now = this.now() + 1; // jobs due within the next millisecond run now
    while (this.heap.length > 0 && this.heap[0].due <= now) {
      const job = this.heap[0];
      this.remove(job);
      try {
        job.run();
      } catch {
        // a job reports its own failures; one bad job never stops the others
      }
    }
    this.arm();
  }

  private remove(job: Job): void {
    const i = job.index;
    const last = this.heap.pop()!;
    job.index = -1;
    if (last !== job) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].due <= h[i].due) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].due < h[m].due) m = l;
      if (r < h.length && h[r].due < h[m].due) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    [h[a], h[b]] = [h[b], h[a]];
    h[a].index = a;
    h[b].index = b;
  }
}
