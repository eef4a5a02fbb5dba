// The userspace dataplane's compiler: a pure function from the ProxyState (and the node's
// addresses) to the listeners the proxy must hold. Every listener is one protocol, address
// and port, serving one service port's internal or external endpoint set.
import { nodePortAddresses } from '../../model/nodeports.js';
import type { ProxyState, ServicePortState } from '../../model/types.js';
import type { ObjectError } from '../../util/errors.js';
import type { TrafficKind } from './balancer.js';
import { isSchedulerName, SCHEDULER_ANNOTATION, type SchedulerName } from './schedulers/index.js';

export interface ListenerSpec {
  /** "TCP/127.0.0.10/80": one socket. */
  readonly key: string;
  readonly protocol: 'TCP' | 'UDP';
  /** The address to bind; "0.0.0.0" or "::" for a NodePort on every local address. */
  readonly ip: string;
  readonly port: number;
  readonly servicePort: string; // ServicePortState.key
  readonly kind: TrafficKind;
  /** Client CIDRs allowed (LoadBalancer IPs with loadBalancerSourceRanges); empty = all. */
  readonly sourceRanges: readonly string[];
}

export interface ServicePortPlan {
  readonly sp: ServicePortState;
  readonly scheduler: SchedulerName;
}

export interface UserspacePlan {
  readonly servicePorts: ReadonlyMap<string, ServicePortPlan>;
  readonly listeners: ReadonlyMap<string, ListenerSpec>;
  /** Problems to report once each: SCTP Services, bad annotations, address conflicts. */
  readonly warnings: readonly ObjectError[];
}

export interface CompileOptions {
  /** The global scheduler (--ipvs-scheduler); "" = rr. */
  scheduler: string;
  /** config.nodePortAddresses: [] = every local address, "primary", or CIDRs. */
  nodePortAddresses: readonly string[];
  /** The machine's addresses (for CIDR nodePortAddresses). */
  localAddresses: readonly string[];
}

export function compile(state: ProxyState, opts: CompileOptions): UserspacePlan {
  const servicePorts = new Map<string, ServicePortPlan>();
  const listeners = new Map<string, ListenerSpec>();
  const warnings: ObjectError[] = [];
  const warned = new Set<string>();
  const warn = (sp: ServicePortState, field: string, reason: string) => {
    const id = `${sp.namespace}/${sp.name}/${field}/${reason}`;
    if (warned.has(id)) return;
    warned.add(id);
    warnings.push({ kind: 'Service', namespace: sp.namespace, name: sp.name, field, reason });
  };
  const global: SchedulerName = opts.scheduler === '' ? 'rr' : isSchedulerName(opts.scheduler) ? opts.scheduler : 'rr';

  const keys = [...state.servicePorts.keys()].sort();
  for (const key of keys) {
    const sp = state.servicePorts.get(key)!;
    if (sp.protocol === 'SCTP') {
      warn(sp, 'spec.ports.protocol', 'SCTP is not supported by the userspace proxy mode; this port is not proxied');
      continue;
    }
    let scheduler = global;
    const ann = sp.annotations[SCHEDULER_ANNOTATION];
    if (ann !== undefined) {
      if (isSchedulerName(ann)) scheduler = ann;
      else warn(sp, `metadata.annotations[${SCHEDULER_ANNOTATION}]`, `unknown scheduler "${ann}" (expected rr, random, lc, sed, nq, dh, sh, maglev or p2c); using ${global}`);
    }
    servicePorts.set(key, { sp, scheduler });

    const add = (ip: string, port: number, kind: TrafficKind, sourceRanges: readonly string[] = []) => {
      const l: ListenerSpec = { key: `${sp.protocol}/${ip}/${port}`, protocol: sp.protocol as 'TCP' | 'UDP', ip, port, servicePort: key, kind, sourceRanges };
      const other = listeners.get(l.key);
      if (other && other.servicePort !== key) {
        warn(sp, 'spec', `${sp.protocol} ${ip} port ${port} is already served by ${state.servicePorts.get(other.servicePort)?.servicePortName}; not proxied here`);
        return;
      }
      if (!other) listeners.set(l.key, l);
    };
    if (sp.clusterIP) add(sp.clusterIP, sp.port, 'internal');
    for (const ip of sp.externalIPs) add(ip, sp.port, 'external');
    for (const ip of sp.loadBalancerIPs) add(ip, sp.port, 'external', sp.external?.loadBalancerAllowedSources ?? []);
    if (sp.nodePort > 0) {
      for (const ip of nodePortIPs(state, sp, opts)) add(ip, sp.nodePort, 'external');
    }
  }
  return { servicePorts, listeners, warnings };
}

/**
 * Where a NodePort listens, in the service port's family:
 *  - nodePortAddresses empty: the wildcard address (0.0.0.0, or :: IPv6-only), i.e. every
 *    local address, including ones added later and 127.0.0.1 (kube-proxy's default
 *    localhostNodePorts behaviour);
 *  - "primary": the node's primary address of the family (from the Node object, or the machine);
 *  - CIDRs: every local address inside them, as found at sync time.
 */
export function nodePortIPs(state: ProxyState, sp: ServicePortState, opts: CompileOptions): string[] {
  const primaryIP = sp.family === 'IPv4' ? state.node.primaryIPv4 : state.node.primaryIPv6;
  const ips = nodePortAddresses(opts.nodePortAddresses, sp.family, { candidates: opts.localAddresses, primaryIP, default: 'all', loopback: true });
  return ips ?? [sp.family === 'IPv4' ? '0.0.0.0' : '::'];
}
