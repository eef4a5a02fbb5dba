// The nft -f deadline (src/dataplanes/nftables/timeout.ts): 60 s for small files, 6 s per MB more.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NFT_FLOOR_MS, nftTimeoutMs } from '../../../src/dataplanes/nftables/timeout.js';

describe('nft -f deadline', () => {
  it('keeps the old 60 s for small transactions', () => {
    assert.equal(nftTimeoutMs(0), NFT_FLOOR_MS);
    assert.equal(nftTimeoutMs(3_000), 60_018);
  });
  it('gives the measured 30,000 × 10 full replace (25.3 MB, ~17 s bare, >60 s under load) ~212 s', () => {
    assert.equal(nftTimeoutMs(25_300_000), 211_800);
    assert.ok(nftTimeoutMs(25_300_000) > 3 * 60_000);
    assert.ok(nftTimeoutMs(8_300_000) >= 100_000, '10,000 × 10 (8.3 MB, ~3 s bare)');
  });
});
