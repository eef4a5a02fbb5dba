// `kproxy cleanup` for the nftables mode: deletes kproxy's `ip kproxy` and `ip6 kproxy` tables
// (and nothing else) in one transaction.
import { execWithTimeout } from '../../util/exec.js';
import type { ModeCleanup } from '../cleanup.js';
import { cleanupText } from './apply.js';
import { runNft } from './nft.js';
import { tableRef, type NftFamily } from './ruleset.js';
import { FAMILIES } from './compile.js';

async function tableExists(family: NftFamily): Promise<boolean> {
  const r = await execWithTimeout('nft', ['list', 'table', ...tableRef(family).split(' ')], { timeoutMs: 10_000 }).catch(() => null);
  return r?.code === 0;
}

export function nftablesCleanup(): ModeCleanup {
  return {
    plan: cleanupText,
    async run() {
      const present: NftFamily[] = [];
      for (const f of FAMILIES) if (await tableExists(f)) present.push(f);
      await runNft(cleanupText());
      return present.map((f) => `nftables: deleted table ${tableRef(f)}`);
    },
  };
}
