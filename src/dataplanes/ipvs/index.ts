// IPVS mode as the registry creates it. As kube-proxy does, it first checks that the kernel
// can do IPVS; when it cannot, the caller's fallback (iptables mode) runs instead, and without
// one kproxy stops with a message that says why.
import { ConfigError } from '../../util/errors.js';
import type { Dataplane, DataplaneContext } from '../dataplane.js';
import { IpvsDataplane } from './apply.js';
import { ipvsUnavailable } from './detect.js';
import { exec } from './exec.js';
import { checkSchedulerFlag } from './scheduler.js';

export async function create(ctx: DataplaneContext, fallback: (() => Promise<Dataplane>) | null): Promise<Dataplane> {
  checkSchedulerFlag(ctx.config.ipvs.scheduler);
  const why = await ipvsUnavailable(exec);
  if (why) {
    if (fallback) {
      ctx.log.warn(`ipvs mode cannot run: ${why}; falling back to iptables mode, as kube-proxy does`);
      return fallback();
    }
    throw new ConfigError('--proxy-mode', `ipvs mode cannot run: ${why}. kube-proxy would fall back to iptables mode, but iptables mode is not available in this build`);
  }
  return new IpvsDataplane(ctx.config, ctx.log, ctx.metrics.registry, { publishRuleset: ctx.publishRuleset });
}
