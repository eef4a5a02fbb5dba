// Health-check node ports as a `kproxy run` add-on: they follow every synced ProxyState,
// whatever the proxy mode.
import type { AddonFactory } from '../addons/addon.js';
import { ServiceHealthServers } from './servicehealth.js';

export const serviceHealthAddon: AddonFactory = async (ctx) => {
  // As kube-proxy: in nftables mode an empty --nodeport-addresses means "primary".
  const nodePortAddresses = ctx.config.nodePortAddresses.length === 0 && ctx.config.mode === 'nftables' ? ['primary'] : ctx.config.nodePortAddresses;
  const servers = new ServiceHealthServers({ log: ctx.log, nodePortAddresses, proxyHealthy: ctx.health ? () => ctx.health!.health().healthy : undefined });
  return {
    update: (state) => {
      servers.update(state).catch((e) => ctx.log.error({ err: (e as Error).message }, 'health-check node ports'));
    },
    close: () => servers.close(),
  };
};
