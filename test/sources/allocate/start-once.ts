// One kproxy start on a manifests folder, as far as allocation goes: the folder read into a
// catalog, applied to a standalone cluster that reads and saves the folder's allocation state
// file, flushed, stopped. What the cluster gave goes to `sink`.
import { allocationsPath } from '../../../src/sources/allocate/state.js';
import { ManifestCatalog } from '../../../src/sources/manifests/catalog.js';
import { StandaloneCluster } from '../../../src/sources/manifests/cluster.js';
import { listManifestFiles, readManifestFile } from '../../../src/sources/manifests/read.js';
import type { ObjectSink } from '../../../src/sources/sink.js';
import { silentLogger } from '../../../src/util/log.js';

export function startOnce(dir: string, sink: ObjectSink, serviceCIDRs: string[]): void {
  const catalog = new ManifestCatalog();
  const touched = new Set<string>();
  for (const f of listManifestFiles(dir)) for (const id of catalog.setFile(f, readManifestFile(dir, f))) touched.add(id);
  const cluster = new StandaloneCluster({
    sink,
    log: silentLogger(),
    serviceCIDRs,
    nodePortRange: { min: 30000, max: 32767 },
    allocationsPath: allocationsPath(dir),
    persistAllocations: true,
    live: false,
    manifestsDir: dir,
  });
  cluster.apply(touched, catalog);
  cluster.flush();
  cluster.stop();
}
