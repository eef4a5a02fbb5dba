// One-shot ProxyState from a manifests folder: what `services`, `rules` and `trace` print.
import type { Config } from '../config/types.js';
import { ChangeTracker } from '../model/tracker.js';
import type { ProxyState } from '../model/types.js';
import { readManifestDir } from '../sources/manifests/read.js';
import { ConfigError } from '../util/errors.js';
import { machineAddresses, nodeName } from '../util/host.js';

export function trackerFor(cfg: Config): ChangeTracker {
  return new ChangeTracker({
    nodeName: nodeName(cfg.hostnameOverride),
    machineAddresses: cfg.nodeIPOverride.length > 0 ? cfg.nodeIPOverride : machineAddresses(),
    preferSameNode: cfg.featureGates.PreferSameTrafficDistribution ?? true,
    serviceProxyName: cfg.serviceProxyName,
  });
}

export async function loadStateOnce(cfg: Config): Promise<ProxyState> {
  if (!cfg.manifests) throw new ConfigError('--manifests', 'required: the folder of Kubernetes YAML to read');
  const tracker = trackerFor(cfg);
  const { objects, errors } = readManifestDir(cfg.manifests);
  const seen = new Map<string, string>();
  for (const { object, file, line } of objects) {
    const id = `${object.kind}/${object.metadata?.namespace ?? 'default'}/${object.metadata?.name ?? ''}`;
    const first = seen.get(id);
    if (first !== undefined) {
      tracker.reportError({
        kind: String(object.kind),
        namespace: object.kind === 'Node' ? '' : (object.metadata?.namespace ?? 'default'),
        name: String(object.metadata?.name ?? ''),
        field: 'metadata.name',
        reason: `defined again in ${file}:${line}; the definition in ${first} wins`,
      });
      continue;
    }
    seen.set(id, `${file}:${line}`);
    tracker.upsert(object);
  }
  for (const e of errors) {
    tracker.reportError({ kind: 'File', namespace: '', name: e.file, field: `line ${e.line}`, reason: e.message });
  }
  return tracker.snapshot();
}
