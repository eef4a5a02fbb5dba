// Serves /rules on the metrics server of `kproxy run`. In nftables mode, until the applier
// publishes its own text (publishRuleset with origin 'applier'), every successful sync
// publishes the ruleset compiled from the synced state — the same text `kproxy rules` prints.
// The iptables applier publishes its own text after every successful restore.
import type { AddonFactory } from '../cli/run.js';
import { publishRuleset } from './last-ruleset.js';
import { rulesRoute } from './rules-page.js';

export const rulesPageAddon: AddonFactory = async ({ config }) => {
  const compileText = config.mode === 'nftables' ? (await import('../dataplanes/nftables/compile.js')).compileText : null;
  return {
    routes: { '/rules': rulesRoute },
    update(state) {
      if (!compileText) return;
      publishRuleset({
        mode: 'nftables',
        appliedAt: new Date(),
        generation: state.generation,
        node: state.node.name,
        nodeAddresses: state.node.addresses,
        render: () => compileText(state, config),
        origin: 'state',
      });
    },
    async close() {},
  };
};
