// `kproxy rules`: prints exactly what the chosen dataplane's applier hands the kernel on a
// full sync, from a folder of manifests (nothing is applied).
import type { Command } from 'commander';
import { ConfigError } from '../util/errors.js';
import { loadStateOnce } from './state.js';
import { addConfigOptions, configFrom } from './options.js';

export function registerRules(program: Command): void {
  const cmd = program.command('rules').description('print the ruleset a full sync would apply (nftables: nft -f text; ipvs: IPVS table, ipsets, iptables rules)');
  addConfigOptions(cmd).action(async (opts) => {
    const cfg = configFrom(opts);
    const state = await loadStateOnce(cfg);
    switch (cfg.mode) {
      case 'nftables': {
        const { compileText } = await import('../dataplanes/nftables/compile.js');
        process.stdout.write(compileText(state, cfg));
        return;
      }
      case 'ipvs': {
        const { rulesText } = await import('../dataplanes/ipvs/rules.js');
        process.stdout.write(rulesText(state, cfg));
        return;
      }
      default:
        throw new ConfigError('--proxy-mode', `kproxy rules does not support mode "${cfg.mode}" yet (supported: nftables, ipvs)`);
    }
  });
}
