// One-shot ProxyState from a manifests folder: what `services`, `rules` and `trace` print.
import { readdirSync, statSync } from 'node:fs';
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

/** Stops with one line when --manifests does not name a readable folder (a typo must not give a proxy with no Services). */
export function checkManifestsDir(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError('--manifests', code === 'ENOENT' ? `${dir}: no such folder` : `${dir}: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) throw new ConfigError('--manifests', `${dir} is a file; expected a folder of Kubernetes YAML files`);
  try {
    readdirSync(dir);
  } catch (e) {
    throw new ConfigError('--manifests', `${dir}: cannot read the folder: ${(e as Error).message}`);
  }
}

export async function loadStateOnce(cfg: Config): Promise<ProxyState> {
  return (await loadOnce(cfg)).state;
}

/** The one-shot state and the tracker behind it (which also knows the LoadBalancer announcements). */
export async function loadOnce(cfg: Config): Promise<{ state: ProxyState; tracker: LoadBalancerTracker }> {
  if (!cfg.manifests) throw new ConfigError('--manifests', 'required: the folder of Kubernetes YAML to read');
  checkManifestsDir(cfg.manifests);
  const tracker = trackerFor(cfg);
  loadManifestsOnce(cfg.manifests, tracker, cfg);
  return { state: tracker.snapshot(), tracker };
}
