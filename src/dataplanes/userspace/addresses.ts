// Service addresses on this machine. A listener can only bind an address that is local:
//  - 127.0.0.0/8 and ::1 are always local on Linux, so loopback VIPs need nothing (this is
//    how the standalone mode works without root);
//  - an address already on an interface needs nothing either;
//  - any other VIP is added to a dummy interface kproxy creates (kproxy0; on kernels without
//    the dummy driver, to the namespace's own lo) — but only as root inside a network
//    namespace other than the root one. kproxy never adds addresses in the
//    host's own namespace: there they would capture the host's traffic to those addresses.
// Addresses kproxy added are removed when their last listener goes and when kproxy stops.
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { execWithTimeout } from '../../util/exec.js';

export const INTERFACE = 'kproxy0';

export function isLoopback(ip: string): boolean {
  return ip === '::1' || (isIPv4(ip) && ip.startsWith('127.'));
}

export function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

/** Every address on the machine's interfaces, loopback included. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) out.push(a.address);
  return out;
}

let nodeLocal: { at: number; set: ReadonlySet<string> } = { at: 0, set: new Set() };

/**
 * Whether an address is one of this machine's (loopback included): a connection from it
 * comes from the node itself. The interface list is re-read at most once a second.
 */
export function isNodeLocalAddress(ip: string): boolean {
  if (isLoopback(ip) || ip.startsWith('::ffff:127.')) return true;
  const now = Date.now();
  if (now - nodeLocal.at > 1000) nodeLocal = { at: now, set: new Set(localAddresses()) };
  return nodeLocal.set.has(ip) || (ip.startsWith('::ffff:') && nodeLocal.set.has(ip.slice(7)));
}

import { inOwnNetns } from '../../util/netns.js';

export { inOwnNetns };

async function ip(args: string[], stdin?: string): Promise<void> {
  const r = await execWithTimeout('ip', args, { input: stdin, timeoutMs: 10_000 });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code ?? r.signal}`}`);
}

export class AddressManager {
  /** Addresses kproxy added to kproxy0, with how many listeners use each. */
  private readonly added = new Map<string, number>();
  /** The interface addresses go on: kproxy0, or lo without the dummy driver; null until needed. */
  private device: string | null = null;
  private readonly canAdd: boolean;
  private readonly why: string;

  constructor(opts: { allowInterface?: boolean } = {}) {
    const root = process.getuid?.() === 0;
    const ownNetns = inOwnNetns();
    this.canAdd = (opts.allowInterface ?? true) && root && ownNetns;
    this.why = !root
      ? 'kproxy is not root; without root, service IPs must be in 127.0.0.0/8 (the standalone default)'
      : !ownNetns
        ? "kproxy runs in the host's own network namespace, where it never adds addresses; run it inside a network namespace, or use service IPs in 127.0.0.0/8"
        : 'adding addresses is turned off';
  }

  /**
   * Makes `addr` bindable, or throws with the reason it cannot be. `local` is the machine's
   * current address list (one read per sync).
   */
  async acquire(addr: string, local: ReadonlySet<string>): Promise<void> {
    const n = this.added.get(addr);
    if (n !== undefined) {
      this.added.set(addr, n + 1);
      return;
    }
    if (isLoopback(addr) || isWildcard(addr) || local.has(addr)) return;
    if (!this.canAdd) throw new Error(`${addr} is not a local address and kproxy cannot add it: ${this.why}`);
    const prefix = isIPv4(addr) ? 32 : 128;
    const dev = await this.ensureInterface();
    await ip(['addr', 'replace', `${addr}/${prefix}`, 'dev', dev, ...(prefix === 128 ? ['nodad'] : [])]);
    this.added.set(addr, 1);
  }

  /** One listener on `addr` closed; the address goes with the last one. */
  async release(addr: string): Promise<void> {
    const n = this.added.get(addr);
    if (n === undefined) return;
    if (n > 1) {
      this.added.set(addr, n - 1);
      return;
    }
    this.added.delete(addr);
    await this.del(addr);
  }

  private del(addr: string): Promise<void> {
    return ip(['addr', 'del', `${addr}/${isIPv4(addr) ? 32 : 128}`, 'dev', this.device!]).catch(() => {});
  }

  /** Removes every address kproxy added, and its interface. */
  async close(): Promise<void> {
    if (this.device === null) return;
    if (this.device === INTERFACE) await ip(['link', 'del', INTERFACE]).catch(() => {});
    else await Promise.all([...this.added.keys()].map((a) => this.del(a)));
    this.added.clear();
    this.device = null;
  }

  private async ensureInterface(): Promise<string> {
    if (this.device !== null) return this.device;
    try {
      await ip(['link', 'add', INTERFACE, 'type', 'dummy']).catch((e: Error) => {
        if (!/File exists/.test(e.message)) throw e;
      });
      await ip(['link', 'set', INTERFACE, 'up']);
      this.device = INTERFACE;
    } catch (e) {
      if (!/Unknown device type|not supported/i.test((e as Error).message)) throw e;
      this.device = 'lo'; // no dummy driver in this kernel; lo is as local and as private here
    }
    return this.device;
  }
}
