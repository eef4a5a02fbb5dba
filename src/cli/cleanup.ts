// `kproxy cleanup`: removes what kproxy's nftables mode installed — its `ip kproxy` and
// `ip6 kproxy` tables — and nothing else.
import type { Command } from 'commander';
import { cleanupText } from '../dataplanes/nftables/apply.js';
import { runNft } from '../dataplanes/nftables/nft.js';

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description("delete kproxy's nftables tables (ip kproxy, ip6 kproxy) and nothing else")
    .option('--dry-run', 'print the nft commands instead of running them')
    .action(async (opts: { dryRun?: boolean }) => {
      const text = cleanupText();
      if (opts.dryRun) process.stdout.write(text);
      else await runNft(text);
    });
}
