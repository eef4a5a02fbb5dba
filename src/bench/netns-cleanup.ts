// Removes what a proxy installed in the bench's node namespace, so that the next size (or
// mode) starts from empty tables. Run inside that namespace only (by the bench's workers).
import type { ProxyMode } from '../config/types.js';
import { modeCleanups } from '../dataplanes/registry.js';
import { execWithTimeout } from '../util/exec.js';

/**
 * nftables and iptables-nft rules live in this namespace's nft tables, all of them the
 * bench's own, so one flush is enough (the iptables cleanup deletes chain by chain, which is
 * slow at tens of thousands of chains); then the mode's own cleanup for the rest
 * (iptables-legacy tables, the ebpf pins of this cgroup only).
 */
export async function cleanupNetns(mode: ProxyMode, cgroup?: string): Promise<void> {
  await execWithTimeout('nft', ['flush', 'ruleset'], { timeoutMs: 300_000 });
  if (mode === 'ebpf') {
    const { cleanupEbpf } = await import('../dataplanes/ebpf/cleanup.js');
    cleanupEbpf(cgroup);
    return;
  }
  for (const [m, c] of await modeCleanups()) if (m === mode) await c.run();
}
