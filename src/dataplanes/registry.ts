// Which dataplane implements each --proxy-mode. Loaded lazily so that a mode's
// dependencies (koffi, nft, ...) are only touched when that mode is chosen.
import type { Config, ProxyMode } from '../config/types.js';
import { ConfigError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { ProxyMetrics } from '../metrics/metrics.js';
import type { Dataplane } from './dataplane.js';

export interface DataplaneContext {
  config: Config;
  log: Logger;
  metrics: ProxyMetrics;
}

export type DataplaneFactory = (ctx: DataplaneContext) => Promise<Dataplane>;

const factories: Partial<Record<ProxyMode, DataplaneFactory>> = {
  userspace: async (ctx) => (await import('./userspace/index.js')).createUserspaceDataplane(ctx),
  nftables: async (ctx) => (await import('./nftables/index.js')).create(ctx),
  // Falls back to iptables mode, when that is registered, on a kernel without IPVS.
  ipvs: async (ctx) => {
    const iptables = factories.iptables;
    const fallback = iptables ? () => iptables({ ...ctx, config: { ...ctx.config, mode: 'iptables' } }) : null;
    return (await import('./ipvs/index.js')).create(ctx, fallback);
  },
};

export function availableModes(): ProxyMode[] {
  return Object.keys(factories) as ProxyMode[];
}

export async function createDataplane(ctx: DataplaneContext): Promise<Dataplane> {
  const f = factories[ctx.config.mode];
  if (!f) {
    const have = availableModes();
    throw new ConfigError('--proxy-mode', `"${ctx.config.mode}" is not implemented yet (available: ${have.join(', ') || 'none'})`);
  }
  return f(ctx);
}
