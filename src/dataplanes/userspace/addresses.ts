// Service addresses on this machine. A listener can only bind an address that is local:
//  - 127.0.0.0/8 and ::1 are always local on Linux, so loopback VIPs need nothing (this is
//    how the standalone mode works without root);
//  - an address already on an interface needs nothing either;
//  - any other VIP is added to a dummy interface kproxy creates (kproxy0) — but only as root
//    inside a network namespace other than the root one. kproxy never adds addresses in the
//    host's own namespace: there they would capture the host's traffic to those addresses.
// Addresses kproxy added are removed when their last listener goes and when kproxy stops.
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';

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

/** Whether this process runs in a network namespace other than init's (PID 1's). */
export function inOwnNetns(): boolean {
  try {
    return readlinkSync('/proc/self/ns/net') !== readlinkSync('/proc/1/ns/net');
  } catch {
    return false; // cannot tell (no /proc, or /proc/1 hidden): assume the host's namespace
  }
}

function ip(args: string[], stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', args, (err, _stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve();
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

export class AddressManager {
  /** Addresses kproxy added to kproxy0, with how many listeners use each. */
  private readonly added = new Map<string, number>();
  private interfaceReady = false;
  private readonly canAdd: boolean;
  private readonly why: string;

  constructor(opts: { allowInterface?: boolean } = {}) {
    const root = process.getuid?.() === 0;
    const ownNetns = inOwnNetns();
    this.canAdd = (opts.allowInterface ?? true) && root && ownNetns;
    this.why = !root
      ? 'kproxy is not root; without root, service IPs must be in 127.0.0.0/8 (the standalone default)'
      : !ownNetns
        ? 'kproxy runs in the host\'s own network namespace, where it never adds addresses; run it inside a network namespace, or use service IPs in 127.0.0.0/8'
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
    await this.ensureInterface();
    const prefix = isIPv4(addr) ? 32 : 128;
    await ip(['addr', 'replace', `${addr}/${prefix}`, 'dev', INTERFACE, ...(prefix === 128 ? ['nodad'] : [])]);
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
    await ip(['addr', 'del', `${addr}/${isIPv4(addr) ? 32 : 128}`, 'dev', INTERFACE]).catch(() => {});
  }

  /** Removes every address kproxy added, and its interface. */
  async close(): Promise<void> {
    if (!this.interfaceReady) return;
    this.added.clear();
    await ip(['link', 'del', INTERFACE]).catch(() => {});
    this.interfaceReady = false;
  }

  private async ensureInterface(): Promise<void> {
    if (this.interfaceReady) return;
    await ip(['link', 'add', INTERFACE, 'type', 'dummy']).catch((e: Error) => {
      if (!/File exists/.test(e.message)) throw e;
    });
    await ip(['link', 'set', INTERFACE, 'up']);
    this.interfaceReady = true;
  }
}
