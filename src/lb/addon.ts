// LoadBalancer announcement in `kproxy run`: after every sync, and whenever a Node, a Lease,
// a pool or an advertisement changes, the announcement table is recomputed; the addresses
// this node wins go to the layer-2 responder, which answers ARP / neighbour solicitations
// for them and announces each takeover. The responder (and its raw sockets) starts only
// once this node has something to announce, so a proxy without IPAddressPools needs neither
// CAP_NET_RAW nor koffi.
//
// /loadbalancers on the metrics server serves the table as JSON (the dashboard reads it):
//   {"node", "announcements": [{"ip", "services", "pool", "node", "reason", "interfaces"}],
//    "pools": [{"pool", "total", "inUse", "services"}], "layer2": {"ip": counters}}
import type { Addon, AddonContext } from '../addons/addon.js';
import { parseIP } from '../api/ip.js';
import type { Announcement } from './announce.js';
import { nextLeaseExpiry } from './announce.js';
import type { ClusterLoadBalancer } from './kube/cluster.js';
import { L2Responder } from './l2/responder.js';
import { LoadBalancerMetrics } from './metrics.js';
import type { LoadBalancerTracker } from './tracker.js';

export interface LoadBalancerAddonContext extends AddonContext {
  tracker: LoadBalancerTracker;
  /** Ask the sync runner for a sync (cluster mode: after LoadBalancer objects change). */
  requestSync: () => void;
}

export function loadBalancerAddon(ctx: LoadBalancerAddonContext): Addon {
  const { tracker, log } = ctx;
  const metrics = new LoadBalancerMetrics(ctx.metrics.registry);
  let table = new Map<string, Announcement>();
  let responder: L2Responder | null = null;
  let responderError: string | null = null;
  let mineText = '';
  let queued = false;
  let leaseTimer: NodeJS.Timeout | null = null;
  let closed = false;
  // In a cluster: MetalLB's objects, all Nodes and node Leases from the API server, and one
  // elected writer of Services' status (src/lb/kube/). Started in the background.
  let cluster: ClusterLoadBalancer | null = null;
  if (!ctx.config.manifests) {
    // Loaded on demand, as the kube source is: @kubernetes/client-node is slow to import.
    import('./kube/cluster.js')
      .then(({ startClusterLoadBalancer }) => startClusterLoadBalancer({ config: ctx.config, log, tracker, changed: () => ctx.requestSync() }))
      .then(
        (c) => {
          if (closed) void c.stop();
          else cluster = c;
        },
        (e: Error) => log.error({ err: e.message }, 'LoadBalancer address management cannot start'),
      );
  }

  const startResponder = () => {
    const r = new L2Responder(log);
    responder = r;
    r.onCounters = (totals) => metrics.setCounters(totals);
    r.start().catch((e: Error) => {
      responderError = e.message;
      responder = null;
      log.error({ err: e.message }, 'layer-2 announcement is off: cannot open packet sockets; LoadBalancer addresses are assigned and programmed but no node answers ARP/NDP for them');
    });
  };

  const recompute = () => {
    queued = false;
    if (closed) return;
    const state = tracker.current();
    const node = state.node.name;
    const now = Date.now();
    const next = tracker.lb.announcements(state.services, state.endpointSlices, now);
    for (const a of next.values()) {
      const before = table.get(a.ip);
      if (before?.node !== a.node)
        log.info(
          { ip: a.ip, services: a.services, node: a.node, was: before?.node ?? null, reason: a.reason || undefined },
          a.node ? 'LoadBalancer address announcer chosen' : 'LoadBalancer address not announced',
        );
    }
    table = next;
    metrics.setAnnouncements(table, node);
    metrics.setUsage(tracker.lb.usage());
    cluster?.reconcile();
    const mine = [...table.values()].filter((a) => a.node === node).map((a) => ({ ip: a.ip, family: parseIP(a.ip)?.family ?? 'IPv4', interfaces: a.interfaces }));
    const text = JSON.stringify(mine);
    if (text !== mineText) {
      mineText = text;
      if (mine.length > 0 && !responder && !responderError) startResponder();
      responder?.setAddresses(mine);
    }
    // A Lease that expires later moves addresses without any event: wake up then.
    if (leaseTimer) clearTimeout(leaseTimer);
    const at = nextLeaseExpiry(tracker.lb.leaseFacts, now);
    leaseTimer = at === null ? null : setTimeout(recompute, Math.max(0, at - now) + 10);
    leaseTimer?.unref();
  };
  const queue = () => {
    if (queued) return;
    queued = true;
    setImmediate(recompute);
  };
  tracker.onAnnouncementInputs = queue;

  return {
    update: () => queue(),
    routes: {
      '/loadbalancers': (_req, res) => {
        const body = {
          node: tracker.current().node.name,
          announcements: [...table.values()].sort((a, b) => a.ip.localeCompare(b.ip)),
          pools: tracker.lb.usage(),
          layer2: responder?.counters ?? {},
          layer2Error: responderError,
        };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body, null, 1) + '\n');
      },
    },
    async close() {
      closed = true;
      if (leaseTimer) clearTimeout(leaseTimer);
      await (cluster as ClusterLoadBalancer | null)?.stop();
      await responder?.close();
    },
  };
}
