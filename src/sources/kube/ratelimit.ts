// A token bucket in front of every request to the API server, as client-go's rate limiter:
// `qps` tokens per second, at most `burst` saved up. @kubernetes/client-node has none of its
// own, and a node agent that re-lists 10,000 Services on every node at once must not turn an
// API server restart into a thundering herd.
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = Math.max(1, burst);
    this.last = now();
  }

  /** Resolves when a request may go out. qps <= 0 means no limit (as client-go's -1). */
  take(): Promise<void> {
    if (!(this.qps > 0)) return Promise.resolve();
    // Callers are served in order: each waits for the one before it.
    const turn = this.queue.then(() => this.wait());
    this.queue = turn;
    return turn;
  }

  private async wait(): Promise<void> {
    this.refill();
    if (this.tokens < 1) {
      const ms = ((1 - this.tokens) / this.qps) * 1000;
      await new Promise((r) => setTimeout(r, ms));
      this.refill();
    }
    this.tokens -= 1;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(Math.max(1, this.burst), this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
  }
}
