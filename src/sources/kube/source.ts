// The Kubernetes API source: Services, EndpointSlices and this node's Node, listed and
// watched as kube-proxy does, handed to the change sink as the JSON the API server
// sent (the same objects a manifest file would give). start() resolves only when all three
// initial lists are delivered, so the first sync never programs an empty ruleset.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../api/types.js';
import type { SinkKind } from '../sink.js';
import { nodeName } from '../../util/host.js';
import type { Source, SourceContext } from '../source.js';
import { Informer, type InformerOptions } from './informer.js';
import { kubeConfigFor } from './kubeconfig.js';
import { TokenBucket } from './ratelimit.js';
import { resources } from './selectors.js';

export interface KubeSourceOptions {
  /** Defaults to the config's kubeconfig / in-cluster / --master. */
  kubeConfig?: KubeConfig;
  /** Objects per list page (client-go's 500). */
  pageSize?: number;
  /** Retry backoff after a failed list or watch (client-go: 800 ms doubling to 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  watchTimeoutSeconds?: () => number;
  /** Size limits on list replies and watch event lines (tests make them small). */
  maxListBytes?: number;
  maxWatchLineBytes?: number;
}

export function kubeSource(ctx: SourceContext, opts: KubeSourceOptions = {}): Source {
  const { config, sink, log } = ctx;
  const kc = opts.kubeConfig ?? kubeConfigFor(config);
  const node = nodeName(config.hostnameOverride);
  const limiter = new TokenBucket(config.clientConnection.qps, config.clientConnection.burst);
  const informerOpts: InformerOptions = {
    pageSize: opts.pageSize ?? 500,
    limiter,
    backoff: opts.backoff ?? { initialMs: 800, maxMs: 30_000 },
    log,
    watchTimeoutSeconds: opts.watchTimeoutSeconds,
    maxListBytes: opts.maxListBytes,
    maxWatchLineBytes: opts.maxWatchLineBytes,
  };

  const disconnected = new Set<string>();
  const listedByKind = new Map<string, number>();
  let listed = false;
  const informers = resources(config, node).map(
    (spec) =>
      new Informer(
        kc,
        spec,
        {
          upsert: (o: KubeObject) => {
            if (!listed) listedByKind.set(spec.kind, (listedByKind.get(spec.kind) ?? 0) + 1);
            const err = sink.upsert(o);
            if (err) log.debug({ kind: err.kind, namespace: err.namespace, name: err.name, field: err.field }, err.reason);
            ctx.changed();
          },
          delete: (o: KubeObject) => {
            const kind = spec.kind as SinkKind;
            sink.delete(kind, kind === 'Node' ? '' : (o.metadata?.namespace ?? ''), o.metadata?.name ?? '');
            ctx.changed();
          },
          connection: (connected) => {
            // Lost the API server: changes may be piling up there that no sync can
            // program. The rules stay as they are; /healthz degrades after 2 × syncPeriod.
            if (connected) disconnected.delete(spec.kind);
            else disconnected.add(spec.kind);
            if (disconnected.size === 0) ctx.health?.sourceConnected();
            else ctx.health?.sourceDisconnected();
          },
        },
        informerOpts,
      ),
  );

  return {
    async start() {
      const server = kc.getCurrentCluster()?.server;
      const t0 = Date.now();
      log.info({ server, node, watches: informers.map((i) => [i.spec.path, i.spec.labelSelector ?? i.spec.fieldSelector ?? ''].join(' ')) }, 'listing and watching the API server');
      for (const i of informers) i.start();
      await Promise.all(informers.map((i) => i.hasSynced));
      listed = true;
      log.info({ ms: Date.now() - t0, objects: Object.fromEntries(listedByKind) }, 'initial list complete');
      ctx.changed();
    },
    async stop() {
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
