// `kproxy rules`: prints exactly what the chosen dataplane's applier hands the kernel on a
// full sync, from a folder of manifests (nothing is applied).
import type { Command } from 'commander';
import { compiledModes, rulesetCompiler } from '../dataplanes/registry.js';
import { requireMode } from './mode.js';
import { loadStateOnce } from './state.js';
import { addConfigOptions, configFrom } from './options.js';

export function registerRules(program: Command): void {
  const cmd = program.command('rules').description(`print the ruleset a full sync would apply (modes: ${compiledModes().join(', ')})`);
  addConfigOptions(cmd, 'rules').action(async (opts) => {
    const cfg = configFrom(opts);
    requireMode(cfg, compiledModes(), 'kproxy rules');
    const state = await loadStateOnce(cfg);
    const compile = (await rulesetCompiler(cfg.mode))!;
    process.stdout.write(compile(state, cfg));
  });
}
