// The iptables mode as the registry creates it: the applier plus the UDP conntrack
// reconciler, which runs after every successful sync.
import { ConntrackReconciler } from '../../conntrack/reconciler.js';
import type { Dataplane, DataplaneContext } from '../dataplane.js';
import { IptablesDataplane } from './apply.js';

export async function create(ctx: DataplaneContext): Promise<Dataplane> {
  const reconciler = new ConntrackReconciler(ctx.metrics.registry, ctx.log);
  const dp = new IptablesDataplane(ctx.config, ctx.log, ctx.metrics.registry, {
    publishRuleset: ctx.publishRuleset,
    afterSync: async (state) => {
      await reconciler.reconcile(state);
    },
  });
  await dp.backend(); // detect and log the backend at start, not at the first sync
  return dp;
}
