// Standalone source: the manifests folder is the API server, kproxy the EndpointSlice
// controller and the kubelet's prober. The folder is read at start and watched afterwards;
// every change reaches the sink within a debounce (100 ms) of the file being written.
import type { Config } from '../../config/types.js';
import type { Source, SourceContext } from '../source.js';
import { defaultServiceCIDRs } from '../allocate/allocator.js';
import { allocationsPath } from '../allocate/state.js';
import { ManifestCatalog } from './catalog.js';
import { StandaloneCluster, type ClusterOptions } from './cluster.js';
import { readManifestFile } from './read.js';
import { FolderWatcher, type FolderChanges } from './watch.js';

/** The allocation settings of a configuration (the service CIDR defaults by mode). */
export function allocationSettings(cfg: Config): Pick<ClusterOptions, 'serviceCIDRs' | 'nodePortRange'> {
  return {
    serviceCIDRs: cfg.serviceClusterIPRange.length > 0 ? cfg.serviceClusterIPRange : defaultServiceCIDRs(cfg.mode),
    nodePortRange: cfg.serviceNodePortRange,
  };
}

/** How long start() waits for the first probe answers (each is bounded by its timeoutSeconds). */
const FIRST_PROBES_WAIT_MS = 3000;

export interface ManifestsSource extends Source {
  /** The cluster model behind the source (tests and benchmarks look inside). */
  readonly cluster: StandaloneCluster;
}

export function manifestsSource(ctx: SourceContext, opts: { debounceMs?: number } = {}): ManifestsSource {
  const dir = ctx.config.manifests;
  const catalog = new ManifestCatalog();
  const cluster = new StandaloneCluster({
    sink: ctx.sink,
    log: ctx.log,
    ...allocationSettings(ctx.config),
    allocationsPath: allocationsPath(dir),
    persistAllocations: true,
    live: true,
    onAsyncChange: () => ctx.changed(),
    grpcProbe: async () => (await import('../pods/grpc.js')).loadGrpcProbe(ctx.log),
  });
  let fileErrors = new Set<string>();

  const load = (files: readonly string[], removed: readonly string[]) => {
    const touched = new Set<string>();
    for (const f of removed) for (const id of catalog.removeFile(f)) touched.add(id);
    for (const f of files) for (const id of catalog.setFile(f, readManifestFile(dir, f))) touched.add(id);
    cluster.apply(touched, catalog);
    fileErrors = cluster.reportFileErrors(catalog, fileErrors);
    cluster.flush(catalog.errors().size > 0);
    ctx.changed();
  };

  const watcher = new FolderWatcher(dir, (c: FolderChanges) => {
    ctx.log.debug({ changed: c.changed, removed: c.removed }, 'manifests changed');
    load(c.changed, c.removed);
  }, { debounceMs: opts.debounceMs, onError: (m) => ctx.log.warn(m) });

  return {
    cluster,
    async start() {
      const t0 = performance.now();
      const files = watcher.start();
      load(files, []);
      await cluster.settle(FIRST_PROBES_WAIT_MS);
      ctx.changed();
      ctx.log.info({ dir, files: files.length, ms: Math.round(performance.now() - t0) }, 'manifests loaded; watching for changes');
    },
    async stop() {
      watcher.stop();
      cluster.stop();
    },
  };
}
