// `kproxy cleanup`: removes what kproxy's nftables mode installed — its `ip kproxy` and
// `ip6 kproxy` tables — and what its ebpf mode attached and pinned, and nothing else.
import type { Command } from 'commander';
import { cleanupText } from '../dataplanes/nftables/apply.js';
import { runNft } from '../dataplanes/nftables/nft.js';

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description("delete kproxy's nftables tables (ip kproxy, ip6 kproxy), detach its eBPF programs and remove its pinned maps, and nothing else")
    .option('--dry-run', 'print the nft commands instead of running them')
    .option('--bpf-cgroup-root <dir>', 'ebpf mode: only the programs and pins serving this cgroup (default: every one kproxy pinned)')
    .action(async (opts: { dryRun?: boolean; bpfCgroupRoot?: string }) => {
      const text = cleanupText();
      if (opts.dryRun) process.stdout.write(text);
      else await runNft(text);
      // ebpf mode: programs detached from their cgroups, pins removed (nothing to do, and
      // nothing loaded, where kproxy pinned nothing).
      if (!opts.dryRun) for (const line of (await import('../dataplanes/ebpf/cleanup.js')).cleanupEbpf(opts.bpfCgroupRoot)) process.stdout.write(line + '\n');
    });
}
