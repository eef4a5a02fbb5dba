// What the nftables compiler knows about one family's table before it looks at any service
// port: the node, the local-traffic detector, the NodePort addresses, the service CIDRs.
import type { IPFamily } from '../../api/ip.js';
import { parseCIDR } from '../../api/ip.js';
import type { Config } from '../../config/types.js';
import { nodePortAddresses } from '../../model/nodeports.js';
import type { NodeInfo } from '../../model/types.js';
import { localDetector, type LocalDetector } from './detector.js';
import type { NftFamily } from './ruleset.js';

export type CompileConfig = Pick<Config, 'detectLocalMode' | 'clusterCIDRs' | 'detectLocal' | 'nodePortAddresses' | 'masqueradeAll' | 'masqueradeBit' | 'serviceClusterIPRange'>;

/** Everything about one family's table that does not depend on a particular service port. */
export interface FamilyContext {
  family: NftFamily;
  ipFamily: IPFamily;
  ipx: 'ip' | 'ip6';
  addrType: 'ipv4_addr' | 'ipv6_addr';
  detector: LocalDetector | null;
  masqueradeAll: boolean;
  masqueradeBit: number;
  primaryIP: string;
  /** null: NodePorts on every local address (fib); else only these. */
  nodePortIPs: string[] | null;
  serviceCIDRs: string[];
  nodeAddresses: ReadonlySet<string>;
}

export const FAMILIES: readonly NftFamily[] = ['ip', 'ip6'];

export function familyContext(family: NftFamily, config: CompileConfig, node: NodeInfo): FamilyContext {
  const ipFamily: IPFamily = family === 'ip' ? 'IPv4' : 'IPv6';
  const primaryIP = ipFamily === 'IPv4' ? node.primaryIPv4 : node.primaryIPv6;
  return {
    family,
    ipFamily,
    ipx: family,
    addrType: family === 'ip' ? 'ipv4_addr' : 'ipv6_addr',
    detector: localDetector(config, node, ipFamily),
    masqueradeAll: config.masqueradeAll,
    masqueradeBit: config.masqueradeBit,
    primaryIP,
    // kube-proxy's nftables mode: NodePorts on the primary IP by default, never on loopback.
    nodePortIPs: nodePortAddresses(config.nodePortAddresses, ipFamily, { candidates: node.addresses, primaryIP, default: 'primary', loopback: false }),
    nodeAddresses: new Set(node.addresses),
    serviceCIDRs: config.serviceClusterIPRange
      .map((c) => parseCIDR(c))
      .filter((c) => c?.family === ipFamily)
      .map((c) => c!.cidr),
  };
}
