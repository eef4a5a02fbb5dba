// The addresses of an IPAddressPool: CIDRs ("192.168.10.0/24", "fc00::/120") and ranges
// ("192.168.10.5-192.168.10.9"), kept as inclusive [first, last] intervals of big integers
// per family. As MetalLB does, every address of a CIDR is assignable (network and broadcast
// included); avoidBuggyIPs takes out IPv4 addresses ending in .0 or .255, which some old
// consumer routers drop.
import { bigIntToIP, ipToBigInt, parseCIDR, parseIP, type IPFamily } from '../api/ip.js';

export interface Interval {
  family: IPFamily;
  first: bigint;
  last: bigint;
}

/** Parses one entry of spec.addresses; returns a reason when it is neither a CIDR nor a range. */
export function parseAddresses(text: string): Interval | string {
  const t = text.trim();
  const dash = t.indexOf('-');
  if (dash >= 0) {
    const a = parseIP(t.slice(0, dash));
    const b = parseIP(t.slice(dash + 1));
    if (!a || !b) return `"${text}" is not a range of two IP addresses ("first-last")`;
    if (a.family !== b.family) return `"${text}" mixes IPv4 and IPv6`;
    const first = ipToBigInt(a.ip);
    const last = ipToBigInt(b.ip);
    if (last < first) return `"${text}": the last address comes before the first`;
    return { family: a.family, first, last };
  }
  if (!t.includes('/')) return `"${text}" is neither a CIDR ("192.168.10.0/24") nor a range ("192.168.10.5-192.168.10.9")`;
  const c = parseCIDR(t);
  if (!c) return `"${text}" is not a valid CIDR`;
  const bits = c.family === 'IPv4' ? 32 : 128;
  const first = ipToBigInt(c.cidr.split('/')[0]);
  return { family: c.family, first, last: first + (1n << BigInt(bits - c.prefix)) - 1n };
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** A set of addresses, walked in order; the first free one is handed out. */
export class AddressSet {
  constructor(
    readonly intervals: readonly Interval[],
    private readonly avoidBuggyIPs: boolean,
  ) {}

  families(): Set<IPFamily> {
    return new Set(this.intervals.map((i) => i.family));
  }

  contains(ip: string): boolean {
    const p = parseIP(ip);
    if (!p) return false;
    const v = ipToBigInt(p.ip);
    return this.intervals.some((i) => i.family === p.family && v >= i.first && v <= i.last) && !this.buggy(v, p.family);
  }

  /** How many addresses of a family can be handed out (capped: an IPv6 /64 is "many"). */
  size(family: IPFamily): number {
    let n = 0n;
    for (const i of this.intervals) {
      if (i.family !== family) continue;
      n += i.last - i.first + 1n;
      if (this.avoidBuggyIPs && family === 'IPv4') n -= this.buggyIn(i);
    }
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
  }

  /** The first address of the family for which usable() holds, or null. Stops after `limit` tries. */
  first(family: IPFamily, usable: (ip: string) => boolean, limit = 1 << 20): string | null {
    let tries = 0;
    for (const i of this.intervals) {
      if (i.family !== family) continue;
      for (let v = i.first; v <= i.last; v++) {
        if (this.buggy(v, family)) continue;
        const ip = bigIntToIP(v, family);
        if (usable(ip)) return ip;
        if (++tries >= limit) return null;
      }
    }
    return null;
  }

  private buggy(v: bigint, family: IPFamily): boolean {
    if (!this.avoidBuggyIPs || family !== 'IPv4') return false;
    const last = v & 0xffn;
    return last === 0n || last === 255n;
  }

  private buggyIn(i: Interval): bigint {
    let n = 0n;
    // Count x.y.z.0 and x.y.z.255 inside [first, last] without walking every address.
    for (const end of [0n, 255n]) {
      const firstBlock = i.first >> 8n;
      const lastBlock = i.last >> 8n;
      let count = lastBlock - firstBlock + 1n;
      if (((firstBlock << 8n) | end) < i.first) count--;
      if (((lastBlock << 8n) | end) > i.last) count--;
      n += count > 0n ? count : 0n;
    }
    return n;
  }
}
