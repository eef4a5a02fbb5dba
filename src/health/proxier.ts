// The proxier's health, with kube-proxy's semantics: healthy unless an update has been
// queued for longer than the timeout (2 × syncPeriod) without a sync completing; /healthz
// is also unhealthy while this node is being deleted or is tainted for removal, and while a
// source has been cut off from its API server for longer than the timeout (changes may be
// waiting there that no sync can program; the rules in place stay).
export interface HealthStatus {
  healthy: boolean;
  lastUpdated: Date | null;
  currentTime: Date;
  nodeEligible: boolean;
}

export class ProxierHealth {
  private lastUpdated: number | null = null;
  private oldestPendingQueued: number | null = null;
  private nodeEligible = true;
  private sourceLostAt: number | null = null;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** An update is waiting to be synced. */
  queuedUpdate(): void {
    if (this.oldestPendingQueued === null) this.oldestPendingQueued = this.now();
  }

  /** A sync completed: everything queued before it is programmed. */
  updated(): void {
    this.lastUpdated = this.now();
    this.oldestPendingQueued = null;
  }

  /** The source cannot reach its API server (kept until sourceConnected). */
  sourceDisconnected(): void {
    if (this.sourceLostAt === null) this.sourceLostAt = this.now();
  }

  sourceConnected(): void {
    this.sourceLostAt = null;
  }

  setNodeEligible(eligible: boolean): void {
    this.nodeEligible = eligible;
  }

  /** /livez: progress only. */
  live(): HealthStatus {
    const now = this.now();
    const stale = this.oldestPendingQueued !== null && now - this.oldestPendingQueued > this.timeoutMs;
    return { healthy: !stale, lastUpdated: this.lastUpdated === null ? null : new Date(this.lastUpdated), currentTime: new Date(now), nodeEligible: this.nodeEligible };
  }

  /** /healthz: progress, and the node is not going away. */
  health(): HealthStatus {
    const s = this.live();
    const cutOff = this.sourceLostAt !== null && s.currentTime.getTime() - this.sourceLostAt > this.timeoutMs;
    return { ...s, healthy: s.healthy && this.nodeEligible && !cutOff };
  }
}
