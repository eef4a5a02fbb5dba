// The lines `kproxy run` logs at the default verbosity, so that a user sees what the running
// proxy does: one start line (what it is and where its input comes from), one line after
// the first sync (how much was programmed, how fast), one per later sync that changed
// something, and one stop line that says what stays behind.
import type { Config } from '../config/types.js';
import type { ProxyState } from '../model/types.js';
import { defaultServiceCIDRs } from '../sources/allocate/allocator.js';
import type { Logger } from '../util/log.js';
import { sourceDescription } from './status-addon.js';
import { KPROXY_VERSION } from './version.js';

export function logStart(log: Logger, cfg: Config, node: string): void {
  const serviceCIDRs = cfg.serviceClusterIPRange.length > 0 ? cfg.serviceClusterIPRange.join(',') : cfg.manifests ? `${defaultServiceCIDRs(cfg.mode).join(',')} (default)` : '(not set)';
  const nodePorts = cfg.nodePortAddresses.length > 0 ? cfg.nodePortAddresses.join(',') : cfg.mode === 'nftables' ? "the node's primary IPs (default)" : 'every local address (default)';
  log.info(
    {
      version: KPROXY_VERSION,
      mode: cfg.mode,
      node,
      config: cfg.configFile ? `${cfg.configFile} and flags` : 'flags and defaults',
      source: sourceDescription(cfg),
      serviceCIDRs,
      clusterCIDRs: cfg.clusterCIDRs.join(',') || '(not set)',
      nodePortAddresses: nodePorts,
    },
    `kproxy ${KPROXY_VERSION} starting in ${cfg.mode} mode`,
  );
}

function counts(state: ProxyState) {
  let endpoints = 0;
  for (const sp of state.servicePorts.values()) endpoints += sp.endpoints.length;
  return { services: state.services.size, servicePorts: state.servicePorts.size, endpoints };
}

export function logSync(log: Logger, state: ProxyState, info: { full: boolean; durationMs: number }, first: boolean): void {
  const ms = Math.round(info.durationMs * 10) / 10;
  if (first) {
    const c = counts(state);
    log.info({ ...c, ms, errors: state.errors.length }, `first sync: ${c.services} Services (${c.servicePorts} service ports, ${c.endpoints} endpoints) programmed in ${ms} ms`);
    return;
  }
  const changed = state.changed.size;
  const deleted = state.deleted.size;
  const fields = { full: info.full, changed, deleted, ...counts(state), ms };
  if (changed + deleted > 0 || state.nodeChanged) log.info(fields, `synced (${info.full ? 'full' : 'partial'}): ${changed} service(s) changed, ${deleted} removed in ${ms} ms`);
  else log.debug(fields, 'synced (nothing changed)');
}

export function logStop(log: Logger, mode: string): void {
  if (mode === 'userspace') {
    log.info('stopped: the userspace listeners are closed; nothing stays behind');
    return;
  }
  // every kernel mode has its part in `kproxy cleanup` (src/dataplanes/registry.ts)
  const how = mode === 'nftables' ? '`kproxy cleanup` removes them (tables ip kproxy and ip6 kproxy)' : '`kproxy cleanup` removes them';
  log.info(`stopped: the ${mode} rules stay in place, so Services keep working until the next kproxy starts; ${how}`);
}
