// Session affinity ClientIP: a client IP keeps going to the backend it was sent to, for
// timeoutSeconds after its last new connection (kube-proxy's "recent" match has the same
// refresh-on-use meaning). An entry is dropped when its backend fails a connect or leaves the
// service port's endpoints; lookups check both, and sweep() drops expired entries.
export class AffinityTable {
  private readonly byClient = new Map<string, { id: string; expires: number }>();

  constructor(private timeoutMs: number) {}

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  get size(): number {
    return this.byClient.size;
  }

  /** The client's backend if it has a live entry; refreshes it. */
  lookup(clientIP: string, now: number): string | null {
    const e = this.byClient.get(clientIP);
    if (!e) return null;
    if (e.expires <= now) {
      this.byClient.delete(clientIP);
      return null;
    }
    e.expires = now + this.timeoutMs;
    return e.id;
  }

  set(clientIP: string, id: string, now: number): void {
    this.byClient.set(clientIP, { id, expires: now + this.timeoutMs });
  }

  forget(clientIP: string): void {
    this.byClient.delete(clientIP);
  }

  /** Drops every entry that points at a backend not in `keep`, and every expired one. */
  sweep(now: number, keep?: ReadonlySet<string>): void {
    for (const [ip, e] of this.byClient) {
      if (e.expires <= now || (keep && !keep.has(e.id))) this.byClient.delete(ip);
    }
  }
}
