// The IPVS compiler: a pure function of (ProxyState, Config) to what IPVS mode programs, per
// IP family:
//  - one virtual service per ClusterIP, externalIP, LoadBalancer IP (ipMode VIP) and NodePort
//    address, for the service port's protocol and port, with masquerading real servers of
//    weight 1 — the endpoint set the model chose for that entry point;
//  - the addresses to bind on the dummy interface kube-ipvs0 (every address but node ports'),
//    so that the kernel delivers their packets locally, where IPVS takes them;
//  - the ipset members that the fixed iptables rules (iptables.ts) match.
// Scheduler: the annotation kproxy.io/scheduler, else --ipvs-scheduler, else rr. ClientIP
// affinity becomes IPVS persistence with the Service's timeout.
import type { IPFamily } from '../../api/ip.js';
import type { Config } from '../../config/types.js';
import { nodePortAddresses as resolveNodePortAddresses } from '../../model/nodeports.js';
import type { Endpoint, NodeInfo, NoEndpointsVerdict, ProxyState, ServicePortState } from '../../model/types.js';
import { emptySets, ipPort, type IpsetContents, type SetKey } from './ipsets.js';
import { renderIptables, type IptablesConfig } from './iptables.js';
import { isIpvsScheduler, SCHEDULER_ANNOTATION } from './scheduler.js';
import type { IpvsProtocol, VirtualService } from './table.js';

export type CompileConfig = IptablesConfig & Pick<Config, 'nodePortAddresses' | 'nodeIPOverride'> & { ipvs: Pick<Config['ipvs'], 'scheduler'> };

export interface FamilyRuleset {
  family: IPFamily;
  services: VirtualService[];
  /** Addresses bound on kube-ipvs0. */
  addresses: string[];
  sets: IpsetContents;
  iptables: string;
}

export interface IpvsRuleset {
  families: FamilyRuleset[];
  /** One line per problem with an object (bad annotation, ...), naming the object and field. */
  warnings: string[];
}

export const FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

export function compile(state: ProxyState, config: CompileConfig): IpvsRuleset {
  const warnings: string[] = [];
  const families = FAMILIES.map((family) => compileFamily(state, config, family, warnings));
  return { families, warnings };
}

/**
 * The node addresses whose node ports IPVS serves (one virtual service each): by default
 * every address of the node in this family, else those --nodeport-addresses selects. Never
 * loopback: IPVS mode has no localhost node ports.
 */
export function nodePortAddresses(config: Pick<Config, 'nodePortAddresses' | 'nodeIPOverride'>, node: Pick<NodeInfo, 'addresses'>, family: IPFamily): string[] {
  const isFamily = (ip: string) => ip.includes(':') === (family === 'IPv6');
  const mine = node.addresses.filter(isFamily);
  const primaryIP = config.nodeIPOverride.find(isFamily) ?? mine[0] ?? '';
  const chosen = resolveNodePortAddresses(config.nodePortAddresses, family, { candidates: mine, primaryIP, default: 'all', loopback: false });
  return (chosen ?? mine.filter((a) => !a.startsWith('127.') && a !== '::1')).slice().sort();
}

function schedulerOf(sp: ServicePortState, config: CompileConfig, warnings: string[]): string {
  const global = config.ipvs.scheduler || 'rr';
  const ann = sp.annotations[SCHEDULER_ANNOTATION];
  if (ann === undefined) return global;
  if (isIpvsScheduler(ann)) return ann;
  warnings.push(
    `Service ${sp.namespace}/${sp.name}: metadata.annotations[${SCHEDULER_ANNOTATION}]: unknown IPVS scheduler "${ann}" (expected rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq or mh); using ${global}`,
  );
  return global;
}

/** A source range as `ipset save` prints it: a single host without its /32 (/128). */
const hostNet = (cidr: string) => cidr.replace(cidr.includes(':') ? /\/128$/ : /\/32$/, '');

function compileFamily(state: ProxyState, config: CompileConfig, family: IPFamily, warnings: string[]): FamilyRuleset {
  const services: VirtualService[] = [];
  const addresses = new Set<string>();
  const sets = emptySets();
  const add = (k: SetKey, m: string) => sets.get(k)!.add(m);
  const nodeIPs = nodePortAddresses(config, state.node, family);
  let any = false;

  for (const sp of state.servicePorts.values()) {
    if (sp.family !== family) continue;
    any = true;
    const proto = sp.protocol.toLowerCase() as IpvsProtocol;
    const scheduler = schedulerOf(sp, config, warnings);
    const persistenceSeconds = sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.timeoutSeconds : 0;
    const vs = (address: string, port: number, endpoints: readonly Endpoint[]) => {
      services.push({
        protocol: proto,
        address,
        port,
        scheduler,
        persistenceSeconds,
        realServers: endpoints.map((e) => ({ address: e.ip, port: e.port, weight: 1 })),
      });
    };
    const noEndpoints = (how: NoEndpointsVerdict | null, ip: string, port: number) => {
      if (how === 'reject') add('noEndpointsReject', ipPort(ip, proto, port));
      else if (how === 'drop') add('noEndpointsDrop', ipPort(ip, proto, port));
    };

    // ClusterIP
    const internal = sp.internal;
    if (sp.clusterIP) {
      vs(sp.clusterIP, sp.port, internal.endpoints);
      addresses.add(sp.clusterIP);
      add('clusterIP', ipPort(sp.clusterIP, proto, sp.port));
      noEndpoints(internal.noEndpoints, sp.clusterIP, sp.port);
    }
    // Hairpin: a local endpoint reaching itself through the Service is masqueraded.
    for (const e of sp.allReachableEndpoints) if (e.isLocal) add('loopBack', `${e.ip},${proto}:${e.port},${e.ip}`);

    // Opened whether or not the Service is reachable from outside yet (an LB without node
    // ports still waiting for its IP): the health check server answers on it all the same.
    if (sp.healthCheckNodePort > 0) add('healthCheckNodePort', String(sp.healthCheckNodePort));

    // eTP Local short-circuit (pods and the node itself to the cluster-wide set) cannot be
    // expressed here: one IPVS address:port has one set of real servers (see docs/ipvs.md).
    const external = sp.external;
    if (!external) continue;
    const policyLocal = external.policy === 'Local';
    for (const ip of sp.externalIPs) {
      vs(ip, sp.port, external.endpoints);
      addresses.add(ip);
      add(policyLocal ? 'externalIPLocal' : 'externalIP', ipPort(ip, proto, sp.port));
      noEndpoints(external.noEndpoints, ip, sp.port);
    }
    for (const ip of sp.loadBalancerIPs) {
      vs(ip, sp.port, external.endpoints);
      addresses.add(ip);
      add('loadBalancer', ipPort(ip, proto, sp.port));
      if (policyLocal) add('loadBalancerLocal', ipPort(ip, proto, sp.port));
      if (external.loadBalancerAllowedSources.length > 0) {
        add('loadBalancerFW', ipPort(ip, proto, sp.port));
        for (const src of external.loadBalancerAllowedSources) add('loadBalancerSourceCIDR', `${ip},${proto}:${sp.port},${hostNet(src)}`);
      }
      noEndpoints(external.noEndpoints, ip, sp.port);
    }
    if (sp.nodePort > 0) {
      for (const ip of nodeIPs) {
        vs(ip, sp.nodePort, external.endpoints);
        noEndpoints(external.noEndpoints, ip, sp.nodePort);
        if (proto === 'sctp') add(policyLocal ? 'nodePortLocalSCTP' : 'nodePortSCTP', ipPort(ip, proto, sp.nodePort));
      }
      if (proto === 'tcp') add(policyLocal ? 'nodePortLocalTCP' : 'nodePortTCP', String(sp.nodePort));
      if (proto === 'udp') add(policyLocal ? 'nodePortLocalUDP' : 'nodePortUDP', String(sp.nodePort));
    }
  }
  for (const a of addresses) add('ipvsIPs', a);
  services.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port || (a.protocol < b.protocol ? -1 : 1)));
  // A family with no service ports still gets its (empty) sets and fixed rules only if the
  // node has that family at all; IPv6 rules are skipped on a node without IPv6 Services.
  const iptables = any || family === 'IPv4' ? renderIptables(config, state.node, family) : '';
  return { family, services, addresses: [...addresses].sort(), sets, iptables };
}
