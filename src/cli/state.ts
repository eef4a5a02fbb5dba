// One-shot ProxyState from a manifests folder: what `services`, `rules` and `trace` print.
import type { Config } from '../config/types.js';
import { ChangeTracker } from '../model/tracker.js';
import type { ProxyState } from '../model/types.js';
import { loadManifestsOnce } from '../sources/manifests/once.js';
import { ConfigError } from '../util/errors.js';
import { machineAddresses, nodeName } from '../util/host.js';

export function trackerFor(cfg: Config): ChangeTracker {
  return new ChangeTracker({
    nodeName: nodeName(cfg.hostnameOverride),
    machineAddresses: cfg.nodeIPOverride.length > 0 ? cfg.nodeIPOverride : machineAddresses(),
    preferSameNode: cfg.featureGates.PreferSameTrafficDistribution ?? true,
    serviceProxyName: cfg.serviceProxyName,
    nodeIPOverride: cfg.nodeIPOverride,
  });
}

export async function loadStateOnce(cfg: Config): Promise<ProxyState> {
  if (!cfg.manifests) throw new ConfigError('--manifests', 'required: the folder of Kubernetes YAML to read');
  const tracker = trackerFor(cfg);
  loadManifestsOnce(cfg.manifests, tracker, cfg);
  return tracker.snapshot();
}
