// One-shot ProxyState from a manifests folder: what `services`, `rules` and `trace` print.
import type { Config } from '../config/types.js';
import { LoadBalancerTracker } from '../lb/tracker.js';
import { assignmentsPath, loadAssignments, saveAssignments } from '../lb/state.js';
import type { ProxyState } from '../model/types.js';
import { loadManifestsOnce } from '../sources/manifests/once.js';
import { ConfigError } from '../util/errors.js';
import { machineAddresses, nodeName } from '../util/host.js';

/**
 * The model's tracker, with LoadBalancer address management in front (see src/lb/). In
 * standalone mode assignments persist in the manifests folder's state directory (written
 * only when persist is set: one-shot commands read it and never write).
 */
export function trackerFor(cfg: Config, opts: { persist?: boolean; warn?: (m: string) => void } = {}): LoadBalancerTracker {
  const standalone = !!cfg.manifests;
  const statePath = standalone ? assignmentsPath(cfg.manifests) : null;
  const loaded = statePath ? loadAssignments(statePath) : null;
  if (loaded?.problem) opts.warn?.(loaded.problem);
  return new LoadBalancerTracker({
    writesStatus: standalone ? 'local' : 'api',
    held: loaded?.state,
    onAssigned: (holdings) => {
      if (!statePath || !opts.persist) return;
      try {
        saveAssignments(statePath, holdings);
      } catch (e) {
        opts.warn?.(`cannot save LoadBalancer assignments to ${statePath}: ${(e as Error).message}; they stay in memory`);
      }
    },
    nodeName: nodeName(cfg.hostnameOverride),
    machineAddresses: cfg.nodeIPOverride.length > 0 ? cfg.nodeIPOverride : machineAddresses(),
    preferSameNode: cfg.featureGates.PreferSameTrafficDistribution ?? true,
    serviceProxyName: cfg.serviceProxyName,
    nodeIPOverride: cfg.nodeIPOverride,
  });
}

export async function loadStateOnce(cfg: Config): Promise<ProxyState> {
  return (await loadOnce(cfg)).state;
}

/** The one-shot state and the tracker behind it (which also knows the LoadBalancer announcements). */
export async function loadOnce(cfg: Config): Promise<{ state: ProxyState; tracker: LoadBalancerTracker }> {
  if (!cfg.manifests) throw new ConfigError('--manifests', 'required: the folder of Kubernetes YAML to read');
  const tracker = trackerFor(cfg);
  loadManifestsOnce(cfg.manifests, tracker, cfg);
  return { state: tracker.snapshot(), tracker };
}
