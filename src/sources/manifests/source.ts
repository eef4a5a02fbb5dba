// Standalone source: the manifests folder is the API server, kproxy the EndpointSlice
// controller and the kubelet's prober. The folder is read at start and watched afterwards;
// every change reaches the sink within a debounce (100 ms) of the file being written.
//
// The first load goes file by file, in path order: each file is read and parsed, its objects
// go to the catalog and the cluster, and are dropped before the next. Pods in the common
// shape are never parsed into objects at all (fast-pod.ts).
import type { Config } from '../../config/types.js';
import type { Source, SourceContext } from '../source.js';
import { defaultServiceCIDRs } from '../allocate/allocator.js';
import { allocationsPath } from '../allocate/state.js';
import { ManifestCatalog } from './catalog.js';
import { locatedSink } from './located-sink.js';
import { StandaloneCluster, type ClusterOptions } from './cluster.js';
import { readManifestFile, type FileContents } from './read.js';
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

/**
 * A file that had objects and now has none is more often an editor half-way through saving
 * (truncate, then write) than an intent to delete them all: it is treated like a file that
 * stopped parsing (its objects stay, an error names it) for this long, and taken at its word
 * afterwards. Removing the file takes its objects away at once.
 */
const EMPTY_FILE_GRACE_MS = 5000;

export interface ManifestsSourceOptions {
  debounceMs?: number;
  emptyFileGraceMs?: number;
}

/** How the catalog reads a file: common-shape Pods straight into Pods (read.ts). */
const READ = { pods: true };

export function manifestsSource(ctx: SourceContext, opts: ManifestsSourceOptions = {}): ManifestsSource {
  const dir = ctx.config.manifests;
  const catalog = new ManifestCatalog();
  const cluster = new StandaloneCluster({
    sink: locatedSink(ctx.sink, catalog),
    log: ctx.log,
    ...allocationSettings(ctx.config),
    allocationsPath: allocationsPath(dir),
    manifestsDir: dir,
    persistAllocations: true,
    live: true,
    onAsyncChange: () => ctx.changed(),
    grpcProbe: async () => (await import('../pods/grpc.js')).loadGrpcProbe(ctx.log),
  });
  let fileErrors = new Set<string>();
  const graceMs = opts.emptyFileGraceMs ?? EMPTY_FILE_GRACE_MS;
  // Files found empty after having objects: the timer, or null once the grace period is over.
  const emptied = new Map<string, NodeJS.Timeout | null>();

  /** A file's contents as read (the empty-file grace applied). */
  const accept = (f: string, c: FileContents): FileContents => {
    const empty = c.objects.length === 0 && c.errors.length === 0 && catalog.definedIn(f) > 0;
    const state = emptied.get(f);
    if (!empty) {
      if (state) clearTimeout(state);
      emptied.delete(f);
      return c;
    }
    if (state === null) {
      emptied.delete(f);
      return c; // still empty after the grace period: the objects are gone
    }
    if (state === undefined) {
      const timer = setTimeout(() => {
        emptied.set(f, null);
        load([f], []);
      }, graceMs);
      timer.unref();
      emptied.set(f, timer);
    }
    const message = `the file is empty; its ${catalog.definedIn(f)} objects are kept for ${graceMs / 1000} s in case it is being rewritten`;
    return { objects: [], errors: [{ file: f, line: 0, message }] };
  };

  const load = (files: readonly string[], removed: readonly string[]) => {
    const touched = new Set<string>();
    for (const f of removed) {
      const t = emptied.get(f);
      if (t) clearTimeout(t);
      emptied.delete(f);
      for (const id of catalog.removeFile(f)) touched.add(id);
    }
    for (const f of files) for (const id of catalog.setFile(f, accept(f, readManifestFile(dir, f, undefined, READ)))) touched.add(id);
    cluster.apply(touched, catalog);
    catalog.forgetObjects(files); // the cluster has what it needs; the text stays
    finish();
  };

  /**
   * The first load, file by file: each file's objects go to the cluster (and are dropped)
   * before the next file is read, so that the parsed objects die young instead of all
   * 100,000s of them living until the end. Into an empty catalog this gives what load()
   * gives: the first definition in file order wins, and an id defined again in a later file
   * is applied again with its duplicate reported. It runs in one go: no folder change can
   * come in between.
   */
  const loadFirst = (files: readonly string[]) => {
    for (const f of files) {
      cluster.apply(catalog.setFile(f, accept(f, readManifestFile(dir, f, undefined, READ))), catalog);
      catalog.forgetObjects([f]);
    }
    finish();
  };

  /** After the catalog and the cluster took the files: errors, allocation, slices. */
  const finish = () => {
    fileErrors = cluster.reportFileErrors(catalog, fileErrors);
    cluster.flush(catalog.errors().size > 0);
    ctx.changed();
  };

  const watcher = new FolderWatcher(
    dir,
    (c: FolderChanges) => {
      ctx.log.debug({ changed: c.changed, removed: c.removed }, 'manifests changed');
      load(c.changed, c.removed);
    },
    { debounceMs: opts.debounceMs, onError: (m) => ctx.log.warn(m) },
  );

  return {
    cluster,
    async start() {
      const t0 = performance.now();
      const files = watcher.start();
      loadFirst(files);
      await cluster.settle(FIRST_PROBES_WAIT_MS);
      ctx.changed();
      ctx.log.info({ dir, files: files.length, ms: Math.round(performance.now() - t0) }, 'manifests loaded; watching for changes');
    },
    async stop() {
      for (const t of emptied.values()) if (t) clearTimeout(t);
      watcher.stop();
      cluster.stop();
    },
  };
}
