// A fake Clock: time moves only when a test calls advance(), which runs every timer that
// falls due (in time order) and lets the promises they start settle before going on.
import type { Clock, TimerHandle } from '../../src/util/clock.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  every: number; // 0 = once
}

const settle = () => new Promise<void>((r) => setImmediate(r));

export class FakeClock implements Clock {
  private t = 1_000_000;
  private nextId = 1;
  private timers = new Map<number, Timer>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(h: TimerHandle): void {
    this.timers.delete(h as number);
  }

  clearInterval(h: TimerHandle): void {
    this.timers.delete(h as number);
  }

  /** Pending timers (a test can assert that nothing is left scheduled). */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing what falls due; resolves once their work settled. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = [...this.timers.values()].filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      if (due.every > 0) due.at += due.every;
      else this.timers.delete(due.id);
      due.fn();
      for (let i = 0; i < 5; i++) await settle();
    }
    this.t = end;
    await settle();
  }

  private add(fn: () => void, ms: number, every: number): number {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.t + Math.max(0, ms), fn, every });
    return id;
  }
}
