// The incremental change from the kernel's IPVS table to the compiled one, as ipvsadm
// commands — pure, so it is tested without a kernel. Graceful termination lives here:
//  - a TCP real server that leaves gets weight 0 (no new connections; open ones carry on) and
//    is deleted once the kernel counts no connections to it (active and inactive), or when
//    the grace period has passed;
//  - UDP and SCTP real servers are deleted at once (and their conntrack entries cleared by
//    the applier): a datagram flow has no end to wait for;
//  - a real server the compiled table wants always gets its weight back, whatever the kernel
//    says — so a restart can never leave a ready endpoint stuck at weight 0;
//  - a whole virtual service that leaves is deleted at once, as kube-proxy does.
import * as cmd from './ipvsadm.js';
import { realServerId, serviceId, type KernelRealServer, type KernelVirtualService, type VirtualService } from './table.js';

export interface Terminating {
  /** When kproxy first saw this real server leave (ms since epoch). */
  since: number;
}

export interface PlanOptions {
  now: number;
  graceMs: number;
  /** Whether the connection counts in `kernel` were just read (false: kproxy's own copy). */
  fresh: boolean;
  /** Virtual services at these addresses are not kproxy's (--ipvs-exclude-cidrs). */
  excluded: (address: string) => boolean;
}

export interface Plan {
  commands: string[];
  /** UDP real servers removed: their conntrack entries are to be cleared. */
  udpRemoved: { vs: VirtualService | KernelVirtualService; rs: KernelRealServer }[];
  /** The table as it will be once the commands ran. */
  table: Map<string, KernelVirtualService>;
  /** Real servers draining, by "<service id> <real server id>". */
  terminating: Map<string, Terminating>;
}

const drainKey = (vsId: string, rsId: string) => `${vsId} ${rsId}`;

export function planTable(desired: readonly VirtualService[], kernel: ReadonlyMap<string, KernelVirtualService>, terminating: ReadonlyMap<string, Terminating>, o: PlanOptions): Plan {
  const commands: string[] = [];
  const udpRemoved: Plan['udpRemoved'] = [];
  const table = new Map<string, KernelVirtualService>();
  const nextTerminating = new Map<string, Terminating>();
  const wanted = new Set<string>();

  for (const vs of desired) {
    const id = serviceId(vs);
    wanted.add(id);
    const k = kernel.get(id);
    const next: KernelVirtualService = { ...vs, realServers: [] };
    table.set(id, next);
    if (!k) {
      commands.push(cmd.addService(vs));
      for (const rs of vs.realServers) {
        commands.push(cmd.addRealServer(vs, rs));
        next.realServers.push({ ...rs, activeConns: 0, inactiveConns: 0 });
      }
      continue;
    }
    if (k.scheduler !== vs.scheduler || k.persistenceSeconds !== vs.persistenceSeconds) commands.push(cmd.editService(vs));
    const have = new Map(k.realServers.map((rs) => [realServerId(rs), rs]));
    const want = new Set<string>();
    for (const rs of vs.realServers) {
      const rid = realServerId(rs);
      want.add(rid);
      const cur = have.get(rid);
      if (!cur) commands.push(cmd.addRealServer(vs, rs));
      else if (cur.weight !== rs.weight) commands.push(cmd.editRealServer(vs, rs));
      next.realServers.push({ ...rs, activeConns: cur?.activeConns ?? 0, inactiveConns: cur?.inactiveConns ?? 0 });
    }
    for (const cur of k.realServers) {
      const rid = realServerId(cur);
      if (want.has(rid)) continue;
      const key = drainKey(id, rid);
      if (vs.protocol !== 'tcp') {
        commands.push(cmd.deleteRealServer(vs, cur));
        if (vs.protocol === 'udp') udpRemoved.push({ vs, rs: cur });
        continue;
      }
      const since = terminating.get(key)?.since ?? o.now;
      const drained = o.fresh && cur.activeConns + cur.inactiveConns === 0;
      if (drained || o.now - since >= o.graceMs) {
        commands.push(cmd.deleteRealServer(vs, cur));
        continue;
      }
      if (cur.weight !== 0) commands.push(cmd.editRealServer(vs, { ...cur, weight: 0 }));
      nextTerminating.set(key, { since });
      next.realServers.push({ ...cur, weight: 0 });
    }
  }
  for (const [id, k] of kernel) {
    if (wanted.has(id) || o.excluded(k.address)) continue;
    commands.push(cmd.deleteService(k));
    if (k.protocol === 'udp') for (const rs of k.realServers) udpRemoved.push({ vs: k, rs });
  }
  return { commands, udpRemoved, table, terminating: nextTerminating };
}
