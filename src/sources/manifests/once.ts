// The manifests folder read once, for one-shot commands (`kproxy services`, `rules`,
// `trace`): the same allocation and endpoint controller as the live source, without
// probing. A Pod's readiness is its status Ready condition when the manifest gives one,
// else ready. Allocations are read from the state file of a running instance (so both
// agree) but never written.
import type { Config } from '../../config/types.js';
import { defaultConfig } from '../../config/load.js';
import type { ObjectSink } from '../sink.js';
import { silentLogger, type Logger } from '../../util/log.js';
import { allocationsPath } from '../allocate/state.js';
import { ManifestCatalog } from './catalog.js';
import { locatedSink } from './located-sink.js';
import { StandaloneCluster } from './cluster.js';
import { readManifestFile } from './read.js';
import { walkManifestFolder } from './walk.js';
import { allocationSettings } from './source.js';

export function loadManifestsOnce(dir: string, sink: ObjectSink, config?: Config, log: Logger = silentLogger()): void {
  const cfg = config ?? { ...defaultConfig(), manifests: dir };
  const catalog = new ManifestCatalog();
  const touched = new Set<string>();
  const walked = walkManifestFolder(dir);
  for (const f of walked.files.keys()) for (const id of catalog.setFile(f, readManifestFile(dir, f, undefined, { pods: true }))) touched.add(id);
  // A subfolder that cannot be read is said, not silently left out (the live source logs it).
  for (const s of walked.skipped) sink.reportError({ kind: 'File', namespace: '', name: s.path, field: '', reason: s.reason });
  const cluster = new StandaloneCluster({
    sink: locatedSink(sink, catalog),
    log,
    ...allocationSettings(cfg),
    allocationsPath: allocationsPath(dir),
    manifestsDir: dir,
    persistAllocations: false,
    live: false,
  });
  cluster.apply(touched, catalog);
  cluster.reportFileErrors(catalog, new Set());
  cluster.flush(true);
  cluster.stop();
}
