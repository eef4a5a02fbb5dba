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

/** Runs an external command; execWithTimeout, or a wrapper around it in tests (to count calls). */
export type Runner = typeof execWithTimeout;

/** How long one `ip -batch` may take: a base plus 5 ms a line (10,000 adds took 2.7 s on a loaded two-core machine). */
export function batchTimeoutMs(lines: number): number {
  return 10_000 + lines * 5;
}

function prefixOf(addr: string): string {
  return `${addr}/${isIPv4(addr) ? 32 : 128}`;
}

export class AddressManager {
  /** Addresses kproxy manages, with how many listeners use each (kept while an add is pending). */
  private readonly refs = new Map<string, number>();
  /** Addresses kproxy believes are on the device: re-read from the kernel after a failed batch. */
  private readonly installed = new Set<string>();
  /** Why the last batch could not add an address; cleared when it is retried. */
  private readonly addErrors = new Map<string, string>();
  /** The interface addresses go on: kproxy0, or lo without the dummy driver; null until needed. */
  private device: string | null = null;
  private readonly canAdd: boolean;
  private readonly why: string;
  private readonly run: Runner;
  /** The batch running now (batches never overlap), and whether another one is already queued. */
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;
  private releaseTimer: NodeJS.Timeout | null = null;
  /** How many `ip -batch` processes ran (status, tests). */
  batches = 0;

  constructor(opts: { allowInterface?: boolean; run?: Runner } = {}) {
    const root = process.getuid?.() === 0;
    const ownNetns = inOwnNetns();
    this.canAdd = (opts.allowInterface ?? true) && root && ownNetns;
    this.run = opts.run ?? execWithTimeout;
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
    const err = (await this.acquireAll([addr], local)).get(addr);
    if (err) throw new Error(err);
  }

  /**
   * Makes every address of `addrs` bindable (one listener each; an address may be listed more
   * than once), adding the missing ones in one `ip -batch` run. Returns, by address, why it
   * cannot be used; an address absent from the answer is ready. A failed address holds no
   * reference: the caller's next sync asks again.
   */
  async acquireAll(addrs: readonly string[], local: ReadonlySet<string>): Promise<Map<string, string>> {
    const errors = new Map<string, string>();
    const pending: string[] = [];
    for (const addr of addrs) {
      const n = this.refs.get(addr);
      if (n !== undefined) {
        this.refs.set(addr, n + 1);
        if (!this.installed.has(addr)) pending.push(addr);
        continue;
      }
      if (isLoopback(addr) || isWildcard(addr) || local.has(addr)) continue;
      if (!this.canAdd) {
        errors.set(addr, `${addr} is not a local address and kproxy cannot add it: ${this.why}`);
        continue;
      }
      this.refs.set(addr, 1);
      pending.push(addr);
    }
    if (pending.length === 0) return errors;
    try {
      await this.reconcile();
    } catch (e) {
      for (const a of pending) if (!this.addErrors.has(a)) this.addErrors.set(a, (e as Error).message);
    }
    for (const addr of pending) {
      if (this.installed.has(addr)) continue;
      errors.set(addr, this.addErrors.get(addr) ?? `${addr} could not be added`);
      const n = this.refs.get(addr)!;
      if (n > 1) this.refs.set(addr, n - 1);
      else this.refs.delete(addr);
    }
    return errors;
  }

  /**
   * One listener on `addr` closed; the address goes with the last one. Removals are gathered
   * for a moment (listeners of one sync close together) and go in one batch.
   */
  async release(addr: string): Promise<void> {
    const n = this.refs.get(addr);
    if (n === undefined) return;
    if (n > 1) {
      this.refs.set(addr, n - 1);
      return;
    }
    this.refs.delete(addr);
    if (this.releaseTimer) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = null;
      this.reconcile().catch(() => {}); // retried with the next change; close() removes the interface
    }, 20);
  }

  /** Removes every address kproxy added, and its interface. */
  async close(): Promise<void> {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    await this.chain.catch(() => {});
    if (this.device === null) return;
    this.refs.clear();
    if (this.device === INTERFACE) await this.ip(['link', 'del', INTERFACE]).catch(() => {});
    else await this.reconcile().catch(() => {});
    this.installed.clear();
    this.device = null;
  }

  /** What kproxy believes is on its device (tests, status). */
  installedAddresses(): string[] {
    return [...this.installed].sort();
  }

  /**
   * Brings the device in line with `refs`: adds and removes the difference in one
   * `ip -force -batch -` run. Batches run one after another; callers that arrive while one
   * runs share the next.
   */
  private reconcile(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.chain
      .catch(() => {})
      .then(() => {
        this.queued = null;
        return this.applyDiff();
      });
    this.queued = next;
    this.chain = next;
    return next;
  }

  private async applyDiff(): Promise<void> {
    const add = [...this.refs.keys()].filter((a) => !this.installed.has(a));
    const del = [...this.installed].filter((a) => !this.refs.has(a));
    if (add.length === 0 && del.length === 0) return;
    const dev = await this.ensureInterface();
    // line i+1 of the batch is lines[i]
    const lines = [
      ...add.map((a) => ({ addr: a, add: true, text: `addr replace ${prefixOf(a)} dev ${dev}${isIPv4(a) ? '' : ' nodad'}` })),
      ...del.map((a) => ({ addr: a, add: false, text: `addr del ${prefixOf(a)} dev ${dev}` })),
    ];
    for (const a of add) this.addErrors.delete(a);
    const input = lines.map((l) => l.text).join('\n') + '\n';
    this.batches++;
    let failure: string | null = null;
    try {
      const r = await this.run('ip', ['-force', '-batch', '-'], { input, timeoutMs: batchTimeoutMs(lines.length) });
      if (r.code === 0) {
        for (const a of add) this.installed.add(a);
        for (const a of del) this.installed.delete(a);
        return;
      }
      failure = r.stderr.trim() || `exit ${r.code ?? r.signal}`;
      // -force goes on after a failing line and names it: "<why>\nCommand failed -:N"
      let why: string[] = [];
      for (const line of r.stderr.split('\n')) {
        const m = /^Command failed -:(\d+)$/.exec(line.trim());
        if (!m) {
          if (line.trim()) why.push(line.trim());
          continue;
        }
        const l = lines[Number(m[1]) - 1];
        if (l?.add) this.addErrors.set(l.addr, `ip ${l.text}: ${why.join('; ') || 'failed'}`);
        why = [];
      }
    } catch (e) {
      failure = (e as Error).message; // timed out or could not start: the kernel may hold part of it
    }
    // What is on the device now is the truth: re-read it, so a failed line is neither lost nor assumed.
    const now = await this.readDevice(dev);
    for (const a of [...add, ...del]) {
      if (now.has(a)) this.installed.add(a);
      else this.installed.delete(a);
    }
    for (const a of add) if (!now.has(a) && !this.addErrors.has(a)) this.addErrors.set(a, `ip -batch: ${failure}`);
    throw new Error(`ip -batch (${lines.length} lines): ${failure}`);
  }

  /** The addresses on `dev`, as the kernel reports them. */
  private async readDevice(dev: string): Promise<Set<string>> {
    const r = await this.run('ip', ['-j', 'addr', 'show', 'dev', dev], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`ip -j addr show dev ${dev}: ${r.stderr.trim() || `exit ${r.code ?? r.signal}`}`);
    const links = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string }[] }[];
    return new Set(links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')));
  }

  private async ip(args: string[]): Promise<void> {
    const r = await this.run('ip', args, { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code ?? r.signal}`}`);
  }

  private async ensureInterface(): Promise<string> {
    if (this.device !== null) return this.device;
    try {
      await this.ip(['link', 'add', INTERFACE, 'type', 'dummy']).catch((e: Error) => {
        if (!/File exists/.test(e.message)) throw e;
      });
      await this.ip(['link', 'set', INTERFACE, 'up']);
      this.device = INTERFACE;
    } catch (e) {
      if (!/Unknown device type|not supported/i.test((e as Error).message)) throw e;
      this.device = 'lo'; // no dummy driver in this kernel; lo is as local and as private here
    }
    return this.device;
  }
}
