// `kproxy cleanup`: removes what kproxy's nftables mode installed — its `ip kproxy` and
// `ip6 kproxy` tables — and nothing else, and says what it removed.
import { execFile } from 'node:child_process';
import type { Command } from 'commander';
import { cleanupText } from '../dataplanes/nftables/apply.js';
import { runNft } from '../dataplanes/nftables/nft.js';
import { ConfigError } from '../util/errors.js';
import { hasNetAdmin } from './privilege.js';

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description("delete kproxy's nftables tables (ip kproxy, ip6 kproxy) and nothing else")
    .option('--dry-run', 'print the nft commands instead of running them')
    .action(async (opts: { dryRun?: boolean }) => {
      const text = cleanupText();
      if (opts.dryRun) {
        process.stdout.write(text);
        return;
      }
      if (!hasNetAdmin()) throw new ConfigError('', 'cleanup changes the kernel\'s nftables ruleset and needs root (CAP_NET_ADMIN); --dry-run prints what it would run');
      const before = await existingTables();
      await runNft(text);
      const removed = before.filter((t) => t === 'ip kproxy' || t === 'ip6 kproxy');
      process.stdout.write(removed.length > 0 ? `removed nftables table(s): ${removed.join(', ')}\n` : 'nothing to remove: no kproxy nftables table exists\n');
    });
}

/** The tables that exist now ("ip kproxy", ...), from `nft list tables`. */
function existingTables(): Promise<string[]> {
  return new Promise((resolve) => {
    execFile('nft', ['list', 'tables'], (err, stdout) => {
      resolve(err ? [] : stdout.split('\n').map((l) => l.replace(/^table\s+/, '').trim()).filter(Boolean));
    });
  });
}
