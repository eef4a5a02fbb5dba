// Bounds on UDP sessions. Each session holds a socket (a file descriptor) until it has been
// idle for udpIdleTimeout; datagrams from many (spoofed) source addresses would otherwise
// open sessions until the process has no descriptors left, and then no TCP Service, no
// /metrics and no /healthz can accept anything. A listener may hold at most perListener
// sessions and all listeners together at most total; at either limit, the listener's
// longest-idle session (among its oldest few, to keep the cost per datagram constant) is
// ended to make room. A listener with no session of its own to give up drops the datagram.

import { fdLimits } from '../../util/fdlimit.js';

export interface UdpSessionLimits {
  perListener: number;
  total: number;
}

/** Defaults: also capped at a quarter of the descriptors the process may open (see fdlimit.ts). */
export const DEFAULT_UDP_SESSION_LIMITS: UdpSessionLimits = { perListener: 4096, total: 16384 };

/** How many of a listener's oldest sessions are looked at to find the longest idle. */
const EVICTION_SCAN = 64;

/** Shared by every UDP listener of the process. */
export class UdpSessionBudget {
  total = 0;
  private maxTotal = -1;
  constructor(private limits: UdpSessionLimits = DEFAULT_UDP_SESSION_LIMITS) {}

  /** Replaces the limits (tests; a future flag). */
  set(limits: UdpSessionLimits): void {
    this.limits = limits;
    this.maxTotal = -1;
  }

  /** The listener with `own` sessions may open one more without giving one up. */
  hasRoom(own: number): boolean {
    // Read once, after `kproxy run` raised the limit: sessions may use a quarter of it.
    if (this.maxTotal < 0) this.maxTotal = Math.min(this.limits.total, Math.floor((fdLimits()?.soft ?? 4 * this.limits.total) / 4));
    return own < this.limits.perListener && this.total < this.maxTotal;
  }
}

export const udpSessionBudget = new UdpSessionBudget();

/** The key of the longest-idle session among the first few of sessions (in creation order). */
export function longestIdle<S extends { last: number }>(sessions: Map<string, S>): string | null {
  let best: string | null = null;
  let bestLast = Infinity;
  let n = 0;
  for (const [key, s] of sessions) {
    if (s.last < bestLast) {
      best = key;
      bestLast = s.last;
    }
    if (++n >= EVICTION_SCAN) break;
  }
  return best;
}
