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
}

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

/**
 * The pod CIDR of this family. There is at most one: --cluster-cidr takes one per family, as
 * kube-proxy does, and so does a Node's spec.podCIDRs (both refused at load otherwise).
 */
function cidrDetector(cidrs: readonly string[], family: IPFamily): LocalDetector | null {
  const mine = cidrs.map((c) => parseCIDR(c)).find((c) => c !== null && c.family === family);
  if (!mine) return null;
  const ipx = family === 'IPv4' ? 'ip' : 'ip6';
  return { ifLocal: `${ipx} saddr ${mine.cidr}`, ifNotLocal: `${ipx} saddr != ${mine.cidr}` };
}

function ifnameDetector(pattern: string): LocalDetector {
  const q = JSON.stringify(pattern);
  return { ifLocal: `iifname ${q}`, ifNotLocal: `iifname != ${q}` };
}
