// The ebpf compiler: a pure function of the ProxyState to the Service entries the socket
// programs serve — one per ClusterIP, port and protocol, with the model's endpoint set for
// ClusterIP traffic (`internal.endpoints`), its no-endpoint verdict and ClientIP affinity.
// External entry points (NodePort, externalIPs, LoadBalancer IPs) are not reachable from
// socket hooks; northsouth.ts hands them to the nftables dataplane.
import type { ProxyState, ServicePortState } from '../../model/types.js';
import { familyOf, type Family, type ProtoName } from './layout.js';

export interface BackendAddr {
  ip: string;
  port: number;
}

export interface SocketService {
  /** The ServicePortState key. */
  key: string;
  servicePortName: string;
  family: Family;
  proto: ProtoName;
  ip: string;
  port: number;
  /** In slot order (the model's order: sorted by endpoint). */
  backends: BackendAddr[];
  /** 0: no ClientIP affinity. */
  affinitySeconds: number;
  noEndpoints: 'reject' | 'drop' | null;
}

/** The socket-level entry of one service port, or null when it has no ClusterIP. */
export function compileServicePort(sp: ServicePortState): SocketService | null {
  if (!sp.clusterIP || sp.clusterIP === 'None') return null;
  return {
    key: sp.key,
    servicePortName: sp.servicePortName,
    family: familyOf(sp.family),
    proto: sp.protocol as ProtoName,
    ip: sp.clusterIP,
    port: sp.port,
    backends: sp.internal.endpoints.map((e) => ({ ip: e.ip, port: e.port })),
    affinitySeconds: sp.sessionAffinity.type === 'ClientIP' ? Math.max(1, sp.sessionAffinity.timeoutSeconds) : 0,
    noEndpoints: sp.internal.endpoints.length > 0 ? null : (sp.internal.noEndpoints ?? 'reject'),
  };
}

/**
 * The entry that refuses a ClusterIP's other ports (upstream REJECTs traffic to a ClusterIP on
 * a port the Service does not have): found by the programs' second lookup, with port and
 * protocol zeroed, when the first one misses.
 */
export function clusterIPEntry(family: Family, ip: string, service: string): SocketService {
  return { key: `clusterIP:${family}/${ip}`, servicePortName: `${service}:*`, family, proto: 'ANY', ip, port: 0, backends: [], affinitySeconds: 0, noEndpoints: 'reject' };
}

/** Every socket-level Service entry, sorted by key. */
export function compile(state: ProxyState): SocketService[] {
  const out: SocketService[] = [];
  const ips = new Map<string, SocketService>();
  for (const sp of state.servicePorts.values()) {
    const s = compileServicePort(sp);
    if (!s) continue;
    out.push(s);
    const any = clusterIPEntry(s.family, s.ip, `${sp.namespace}/${sp.name}`);
    ips.set(any.key, any);
  }
  out.push(...ips.values());
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Whether two entries program the same map contents (ids aside). */
export function sameEntry(a: SocketService, b: SocketService): boolean {
  if (a.affinitySeconds !== b.affinitySeconds || a.noEndpoints !== b.noEndpoints || a.backends.length !== b.backends.length) return false;
  for (let i = 0; i < a.backends.length; i++) if (a.backends[i].ip !== b.backends[i].ip || a.backends[i].port !== b.backends[i].port) return false;
  return true;
}

/** The Service map key identity: "family/proto/ip/port". */
export const addressKey = (s: Pick<SocketService, 'family' | 'proto' | 'ip' | 'port'>): string => `${s.family}/${s.proto}/${s.ip}/${s.port}`;
