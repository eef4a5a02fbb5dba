// `kproxy cleanup`: removes what kproxy's nftables and iptables modes installed — the
// `ip kproxy` and `ip6 kproxy` tables; the KUBE-* chains kproxy writes and its jump rules in
// the built-in chains, on whichever iptables backend (nft, legacy) holds them — and nothing else.
import type { Command } from 'commander';
import { cleanupFamily } from '../dataplanes/iptables/apply.js';
import { toolsFor } from '../dataplanes/iptables/backend.js';
import { cleanupText } from '../dataplanes/nftables/apply.js';
import { runNft } from '../dataplanes/nftables/nft.js';

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description("delete kproxy's nftables tables (ip kproxy, ip6 kproxy) and its iptables KUBE-* chains and jump rules, nothing else")
    .option('--dry-run', 'print the nft commands instead of running them (iptables state is only described)')
    .action(async (opts: { dryRun?: boolean }) => {
      const text = cleanupText();
      if (opts.dryRun) {
        process.stdout.write(text);
        process.stdout.write('# iptables (nft and legacy backends, IPv4 and IPv6): delete the jump rules kproxy installed and its KUBE-* chains\n');
        return;
      }
      await runNft(text);
      for (const backend of ['nft', 'legacy'] as const) {
        for (const family of ['IPv4', 'IPv6'] as const) await cleanupFamily(toolsFor(backend, 'cleanup'), family);
      }
    });
}
