// How long kproxy lets one `nft -f` transaction run, from the size of the file. Measured on a
// 2-core machine (docs/nftables.md): a full replace at 30,000 Services × 10 endpoints is a
// 25.3 MB file that bare nft loads in ~17 s (~0.66 s per MB) and kproxy's whole sync in ~29 s
// under load; under heavier load the old fixed 60 s was not enough. The floor (60 s, the old
// limit) covers small transactions and a busy machine; each MB adds 6 s (~9× the measured
// cost, since the kernel's share grows somewhat faster than linearly at the largest sizes):
// 30,000 × 10 gets ~212 s. A hung nft is still killed after floor + allowance of its file.
import { scaledTimeoutMs } from '../../util/scaled-timeout.js';

export const NFT_FLOOR_MS = 60_000;
export const NFT_MS_PER_MB = 6_000;

/** The deadline of `nft -f` on a file of `bytes` bytes. */
export function nftTimeoutMs(bytes: number): number {
  return scaledTimeoutMs(NFT_FLOOR_MS, NFT_MS_PER_MB / 1_000_000, bytes);
}
