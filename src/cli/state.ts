// One-shot ProxyState from a manifests folder: what `services`, `rules` and `trace` print.
import { readdirSync, statSync } from 'node:fs';
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
  if (!cfg.manifests) throw new ConfigError('--manifests', 'required: the folder of Kubernetes YAML to read');
  checkManifestsDir(cfg.manifests);
  const tracker = trackerFor(cfg);
  loadManifestsOnce(cfg.manifests, tracker, cfg);
  return tracker.snapshot();
}
