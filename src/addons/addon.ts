// The add-on contract: something `kproxy run` starts beside the dataplane that follows the
// ProxyState after every successful sync (the DNS server, health-check node ports, the
// /rules page, ...). It lives here, with neither the CLI nor any add-on owning it.
import type { Config } from '../config/types.js';
import type { ProxierHealth } from '../health/proxier.js';
import type { ProxyMetrics } from '../metrics/metrics.js';
import type { Route } from '../metrics/server.js';
import type { ProxyState } from '../model/types.js';
import type { RulesetStore } from '../rules/store.js';
import type { Logger } from '../util/log.js';

export interface Addon {
  update(state: ProxyState): void;
  close(): Promise<void>;
  /** Pages to serve on the metrics server. */
  routes?: Record<string, Route>;
}

export interface AddonContext {
  config: Config;
  log: Logger;
  metrics: ProxyMetrics;
  /** The proxier's health (health-check node ports report it). */
  health?: ProxierHealth;
  /** What the dataplane last committed (the /rules page). */
  rules?: RulesetStore;
}

export type AddonFactory = (ctx: AddonContext) => Promise<Addon | null>;
