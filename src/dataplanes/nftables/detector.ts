// The local-traffic detector: how a rule tells traffic from this node's pods apart from the
// rest, as kube-proxy's --detect-local-mode does. Each mode yields two rule fragments for one
// IP family: one matching pod traffic, one matching everything else; null means "no detector"
// (mode None, or no CIDR of this family), in which case kube-proxy adds neither rule.
import { parseCIDR, type IPFamily } from '../../api/ip.js';
import type { Config } from '../../config/types.js';
import type { NodeInfo } from '../../model/types.js';

export interface LocalDetector {
  /** Matches traffic from this node's pods, e.g. `ip saddr 10.0.0.0/8`. */
  ifLocal: string;
  /** Matches everything else, e.g. `ip saddr != 10.0.0.0/8`. */
  ifNotLocal: string;
  /** A named interval set the fragments refer to (several CIDRs), if any. */
  set?: { name: string; type: string; elements: string[] };
}

export const POD_CIDRS_SET = 'pod-cidrs';

export function localDetector(config: Pick<Config, 'detectLocalMode' | 'clusterCIDRs' | 'detectLocal'>, node: Pick<NodeInfo, 'podCIDRs'>, family: IPFamily): LocalDetector | null {
  switch (config.detectLocalMode) {
    case 'ClusterCIDR':
      return cidrDetector(config.clusterCIDRs, family);
    case 'NodeCIDR':
      return cidrDetector(node.podCIDRs, family);
    case 'InterfaceNamePrefix':
      return ifnameDetector(`${config.detectLocal.interfaceNamePrefix}*`);
    case 'BridgeInterface':
      return ifnameDetector(config.detectLocal.bridgeInterface);
    case 'None':
      return null;
  }
}

function cidrDetector(cidrs: readonly string[], family: IPFamily): LocalDetector | null {
  const mine = [
    ...new Set(
      cidrs
        .map((c) => parseCIDR(c))
        .filter((c) => c !== null && c.family === family)
        .map((c) => c!.cidr),
    ),
  ];
  if (mine.length === 0) return null;
  const ipx = family === 'IPv4' ? 'ip' : 'ip6';
  if (mine.length === 1) return { ifLocal: `${ipx} saddr ${mine[0]}`, ifNotLocal: `${ipx} saddr != ${mine[0]}` };
  // Several CIDRs: one named set, not an anonymous set in every service's rule.
  return {
    ifLocal: `${ipx} saddr @${POD_CIDRS_SET}`,
    ifNotLocal: `${ipx} saddr != @${POD_CIDRS_SET}`,
    set: { name: POD_CIDRS_SET, type: family === 'IPv4' ? 'ipv4_addr' : 'ipv6_addr', elements: mine },
  };
}

function ifnameDetector(pattern: string): LocalDetector {
  const q = JSON.stringify(pattern);
  return { ifLocal: `iifname ${q}`, ifNotLocal: `iifname != ${q}` };
}
