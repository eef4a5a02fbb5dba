// The local-traffic detector in iptables match arguments: how a rule tells traffic from this
// node's pods apart from the rest (--detect-local-mode). As kube-proxy, the CIDR modes use the
// first CIDR of the family; null means "no detector" (mode None or no CIDR of this family),
// and then neither kind of rule is written.
import { parseCIDR, type IPFamily } from '../../api/ip.js';
import type { Config } from '../../config/types.js';
import type { NodeInfo } from '../../model/types.js';

export interface LocalDetector {
  /** e.g. `-s 10.0.0.0/8` */
  ifLocal: string;
  /** e.g. `! -s 10.0.0.0/8` */
  ifNotLocal: string;
}

export function localDetector(config: Pick<Config, 'detectLocalMode' | 'clusterCIDRs' | 'detectLocal'>, node: Pick<NodeInfo, 'podCIDRs'>, family: IPFamily): LocalDetector | null {
  switch (config.detectLocalMode) {
    case 'ClusterCIDR':
      return cidrDetector(config.clusterCIDRs, family);
    case 'NodeCIDR':
      return cidrDetector(node.podCIDRs, family);
    case 'InterfaceNamePrefix':
      return ifaceDetector(`${config.detectLocal.interfaceNamePrefix}+`);
    case 'BridgeInterface':
      return ifaceDetector(config.detectLocal.bridgeInterface);
    case 'None':
      return null;
  }
}

function cidrDetector(cidrs: readonly string[], family: IPFamily): LocalDetector | null {
  const first = cidrs.map((c) => parseCIDR(c)).find((c) => c !== null && c.family === family);
  if (!first) return null;
  return { ifLocal: `-s ${first.cidr}`, ifNotLocal: `! -s ${first.cidr}` };
}

function ifaceDetector(name: string): LocalDetector | null {
  if (!name || name === '+') return null;
  return { ifLocal: `-i ${name}`, ifNotLocal: `! -i ${name}` };
}
