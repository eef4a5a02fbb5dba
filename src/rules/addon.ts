// Serves /rules on the metrics server of `kproxy run`: what the dataplane's applier last
// committed (it publishes into the RulesetStore that `kproxy run` hands it).
import type { AddonFactory } from '../addons/addon.js';
import { rulesRoute } from './page.js';

export const rulesPageAddon: AddonFactory = async ({ rules }) => {
  if (!rules) return null;
  return {
    routes: { '/rules': rulesRoute(rules) },
    update() {},
    async close() {},
  };
};
