// `kproxy cleanup`: removes what kproxy's kernel modes installed (the nftables mode's
// `ip kproxy` and `ip6 kproxy` tables; the iptables mode's KUBE-* chains and jump rules on
// either backend; whatever each other built mode names) and nothing else; says what it removed. A mode that fails is reported; the others still run.
import type { Command } from 'commander';
import { modeCleanups } from '../dataplanes/registry.js';
import { ConfigError } from '../util/errors.js';
import { hasNetAdmin } from './privilege.js';

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description(
      "remove what kproxy's kernel modes installed (nftables tables ip/ip6 kproxy, iptables KUBE-* chains and jump rules, ipvs virtual services, kube-ipvs0 and ipsets, ebpf programs and maps kproxy pinned) and nothing else",
    )
    .option('--dry-run', 'print the commands instead of running them')
    .action((opts: { dryRun?: boolean }) => runCleanup(opts.dryRun ?? false));
}

/** Runs every built mode's cleanup (or prints it); also what `kproxy run --cleanup` does, as kube-proxy --cleanup. */
export async function runCleanup(dryRun: boolean): Promise<void> {
  const cleanups = await modeCleanups();
  if (dryRun) {
    for (const [, c] of cleanups) process.stdout.write(c.plan());
    return;
  }
  if (!hasNetAdmin()) throw new ConfigError('', "cleanup changes the kernel's rules and needs root (CAP_NET_ADMIN); --dry-run prints what it would run");
  let failed = 0;
  let removed = 0;
  for (const [mode, c] of cleanups) {
    try {
      for (const line of await c.run()) {
        process.stdout.write(`${line}\n`);
        removed++;
      }
    } catch (e) {
      failed++;
      process.stderr.write(`kproxy cleanup: ${mode}: ${(e as Error).message}\n`);
    }
  }
  if (removed === 0 && failed === 0) process.stdout.write('nothing of kproxy was installed\n');
  if (failed > 0) process.exitCode = 1;
}
