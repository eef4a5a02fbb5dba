// LoadBalancer address management against a real API server:
//  - watches IPAddressPools and L2Advertisements (metallb.io/v1beta1) when their CRDs are
//    installed (asked at start until the API server answers: without them the feature stays
//    off, said once), every Node (announcer eligibility) and the node Leases of
//    kube-node-lease;
//  - elects one writer (leader.ts); the writer patches each Service's
//    status.loadBalancer.ingress to its assignment (only the status subresource: unlike
//    MetalLB, kproxy does not annotate the Service with its pool, so a proxy never needs the
//    right to update Services themselves). Every kproxy computes the same
//    assignment; only the writer's reaches the API, and the watch brings it back to all.
import type { KubeObject } from '../../api/types.js';
import type { Config } from '../../config/types.js';
import { Informer, type ResourceSpec } from '../../sources/kube/informer.js';
import { kubeConfigFor } from '../../sources/kube/kubeconfig.js';
import { TokenBucket } from '../../sources/kube/ratelimit.js';
import type { ObjectKind } from '../../model/tracker.js';
import type { Logger } from '../../util/log.js';
import type { LoadBalancerTracker } from '../tracker.js';
import { LeaderElector } from './leader.js';
import { APIError, requestJSON } from './request.js';

export const LEADER_LEASE_NAME = 'kproxy-loadbalancer-status';

export interface ClusterLoadBalancerContext {
  config: Config;
  log: Logger;
  tracker: LoadBalancerTracker;
  /** Ask for a sync (assignment runs right before each snapshot). */
  changed: () => void;
  /** Leader Lease timing (default: 15 s lease, 2 s retry, as client-go). */
  leader?: { leaseSeconds: number; retryMs: number };
  /** Backoff of the first question (is metallb.io/v1beta1 served?) while the API server cannot answer it. */
  discoveryBackoff?: { initialMs: number; maxMs: number };
  /** Test hook: a KubeConfig other than the configuration's. */
  kubeConfig?: import('@kubernetes/client-node').KubeConfig;
}

export interface ClusterLoadBalancer {
  /** Writes what differs between assignments and Services' status (only when leader). */
  reconcile(): void;
  stop(): Promise<void>;
  readonly metallbInstalled: boolean;
}

/**
 * Why metallb.io/v1beta1 cannot be used, or null when it is served. Asked until the API server
 * gives an answer: an API server that cannot be reached yet (kproxy often starts before it, or
 * while it restarts) or that answers 5xx/429 is asked again with backoff, said once, so that a
 * slow API server does not leave address management off until kproxy restarts. A 404 means
 * the CRDs are not installed; another refusal (401, 403) is final too.
 */
async function metallbMissing(kc: import('@kubernetes/client-node').KubeConfig, log: Logger, backoff: { initialMs: number; maxMs: number }): Promise<string | null> {
  let delay = backoff.initialMs;
  let said = false;
  for (;;) {
    try {
      await requestJSON(kc, 'GET', '/apis/metallb.io/v1beta1');
      return null;
    } catch (e) {
      const status = e instanceof APIError ? e.statusCode : 0;
      if (status === 404) return 'the metallb.io/v1beta1 CRDs (IPAddressPool, L2Advertisement) are not installed';
      if (status !== 0 && status < 500 && status !== 429) return `cannot read metallb.io/v1beta1: ${(e as Error).message}`;
      if (!said) log.warn(`cannot ask the API server whether metallb.io/v1beta1 is served yet (${(e as Error).message}); asking again until it answers`);
      said = true;
      // unref: a kproxy stopped meanwhile is not held open by this wait.
      await new Promise((r) => setTimeout(r, delay).unref());
      delay = Math.min(delay * 2, backoff.maxMs);
    }
  }
}

export async function startClusterLoadBalancer(ctx: ClusterLoadBalancerContext): Promise<ClusterLoadBalancer> {
  const { tracker, log } = ctx;
  const kc = ctx.kubeConfig ?? kubeConfigFor(ctx.config);
  const limiter = new TokenBucket(ctx.config.clientConnection.qps, ctx.config.clientConnection.burst);
  const informerOpts = { pageSize: 500, limiter, backoff: { initialMs: 800, maxMs: 30_000 }, log };

  const off = await metallbMissing(kc, log, ctx.discoveryBackoff ?? informerOpts.backoff);
  const metallbInstalled = off === null;
  if (off) log.warn(`LoadBalancer address management is off: ${off}. kproxy still programs LoadBalancer addresses that something else assigns. Restart kproxy after installing them.`);

  const specs: ResourceSpec[] = [
    { path: '/api/v1/nodes', apiVersion: 'v1', kind: 'Node' },
    { path: '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
  ];
  if (metallbInstalled) {
    specs.push({ path: '/apis/metallb.io/v1beta1/ipaddresspools', apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool' });
    specs.push({ path: '/apis/metallb.io/v1beta1/l2advertisements', apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement' });
  }
  const informers = specs.map(
    (spec) =>
      new Informer(
        kc,
        spec,
        {
          upsert: (o: KubeObject) => {
            const err = tracker.upsert(o);
            if (err) log.debug({ kind: err.kind, namespace: err.namespace, name: err.name, field: err.field }, err.reason);
            ctx.changed();
          },
          delete: (o: KubeObject) => {
            tracker.delete(spec.kind as ObjectKind, spec.kind === 'Node' ? '' : (o.metadata?.namespace ?? ''), o.metadata?.name ?? '');
            ctx.changed();
          },
          connection: () => {},
        },
        informerOpts,
      ),
  );
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.hasSynced));

  const written = new Map<string, string>(); // id -> JSON of the ingress last patched
  let busy = false;
  let again = false;
  const reconcile = async () => {
    if (!elector.isLeader || !metallbInstalled) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      tracker.lb.assign();
      for (const id of tracker.lb.assignedIds()) {
        const want = tracker.lb.desiredIngress(id);
        const raw = tracker.lb.rawService(id);
        if (!want || !raw) continue;
        const have = (((raw.status as Record<string, unknown> | undefined)?.loadBalancer as Record<string, unknown> | undefined)?.ingress ?? []) as { ip?: string }[];
        if (JSON.stringify(have.map((g) => g.ip)) === JSON.stringify(want.map((g) => g.ip))) continue;
        const text = JSON.stringify(want);
        if (written.get(id) === text) continue; // patched already; the watch has not caught up yet
        const [ns, name] = [id.slice(0, id.indexOf('/')), id.slice(id.indexOf('/') + 1)];
        try {
          await requestJSON(kc, 'PATCH', `/api/v1/namespaces/${ns}/services/${name}/status`, { status: { loadBalancer: { ingress: want } } }, 'application/merge-patch+json');
          written.set(id, text);
          log.info({ service: id, ingress: want.map((g) => g.ip) }, 'LoadBalancer status written');
        } catch (e) {
          log.warn({ service: id, err: (e as Error).message }, 'cannot write LoadBalancer status; retrying on the next change');
        }
      }
    } finally {
      busy = false;
      if (again) {
        again = false;
        void reconcile();
      }
    }
  };

  const elector = new LeaderElector(
    kc,
    {
      namespace: process.env.POD_NAMESPACE || 'kube-system',
      name: LEADER_LEASE_NAME,
      identity: tracker.current().node.name || 'kproxy',
      leaseSeconds: ctx.leader?.leaseSeconds,
      retryMs: ctx.leader?.retryMs,
      onChange: (leader) => {
        written.clear();
        if (leader) void reconcile();
      },
    },
    log,
  );
  if (metallbInstalled) elector.start();

  return {
    metallbInstalled,
    reconcile: () => void reconcile(),
    async stop() {
      elector.stop();
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
