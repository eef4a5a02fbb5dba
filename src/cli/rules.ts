// `kproxy rules`: prints exactly what the chosen dataplane's applier hands the kernel on a
// full sync, from a folder of manifests (nothing is applied).
import type { Command } from 'commander';
import { compiledModes, rulesetCompiler } from '../dataplanes/registry.js';
import { ConfigError } from '../util/errors.js';
import { loadStateOnce } from './state.js';
import { addConfigOptions, configFrom } from './options.js';

export function registerRules(program: Command): void {
  const cmd = program.command('rules').description('print the ruleset a full sync would apply (nftables: nft -f text; iptables: the iptables-restore input of each family)');
  addConfigOptions(cmd).action(async (opts) => {
    const cfg = configFrom(opts);
    const state = await loadStateOnce(cfg);
    const compile = await rulesetCompiler(cfg.mode);
    if (!compile) throw new ConfigError('--proxy-mode', `mode "${cfg.mode}" has no ruleset to print (modes with one: ${compiledModes().join(', ')})`);
    process.stdout.write(compile(state, cfg));
  });
}
