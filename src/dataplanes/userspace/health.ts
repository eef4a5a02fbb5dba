// Passive ejection: a backend that refused or timed out a connect is passed over for a short
// while by every service port that uses it (the same Pod IP:port fails for all of them).
// Nothing probes it; after the ejection it simply gets traffic again, and fails again if it
// is still down.
export const EJECTION_MS = 5_000;

export class EndpointHealth {
  private readonly ejectedUntil = new Map<string, number>();

  constructor(private readonly ejectionMs = EJECTION_MS) {}

  eject(id: string, now = Date.now()): void {
    this.ejectedUntil.set(id, now + this.ejectionMs);
  }

  isEjected(id: string, now: number): boolean {
    if (this.ejectedUntil.size === 0) return false; // the common case: one map read saved
    const until = this.ejectedUntil.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    this.ejectedUntil.delete(id);
    return false;
  }

  /** A successful connect ends an ejection early. */
  recovered(id: string): void {
    if (this.ejectedUntil.size > 0) this.ejectedUntil.delete(id);
  }

  sweep(now: number): void {
    for (const [id, until] of this.ejectedUntil) if (until <= now) this.ejectedUntil.delete(id);
  }
}
