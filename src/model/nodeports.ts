// Which addresses of this node accept NodePort traffic, from --nodeport-addresses
// (nodePortAddresses): one resolver for every mode, each passing its own default and whether
// loopback addresses may accept NodePorts.
import { cidrContains, parseCIDR, type IPFamily } from '../api/ip.js';

export interface NodePortAddressOptions {
  /** The addresses to choose from: the node's (kernel modes) or the machine's (userspace). */
  candidates: readonly string[];
  /** The node's primary IP of the family ("" when none). */
  primaryIP: string;
  /**
   * What an empty list means: `primary` (kube-proxy's nftables mode: the node's primary IP)
   * or `all` (the iptables and userspace modes: every local address).
   */
  default: 'primary' | 'all';
  /** Whether loopback addresses may accept NodePorts (kube-proxy's localhostNodePorts, IPv4 only). */
  loopback: boolean;
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';
const ofFamily = (ip: string, family: IPFamily) => ip.includes(':') === (family === 'IPv6');

/**
 * The addresses of `family` that accept NodePorts, sorted; null means every local address
 * (an empty list with the `all` default, or a /0 CIDR). Entries: "primary" (the primary IP)
 * or CIDRs; CIDRs of the other family are ignored, and a family that no entry names falls
 * back to the default, as kube-proxy does.
 */
export function nodePortAddresses(spec: readonly string[], family: IPFamily, opts: NodePortAddressOptions): string[] | null {
  const ips = new Set<string>();
  let named = false;
  for (const entry of spec) {
    if (entry === 'primary') {
      named = true;
      if (opts.primaryIP) ips.add(opts.primaryIP);
      continue;
    }
    const cidr = parseCIDR(entry);
    if (!cidr || cidr.family !== family) continue;
    named = true;
    if (cidr.prefix === 0) return null;
    for (const ip of opts.candidates) if (ofFamily(ip, family) && cidrContains(cidr, ip)) ips.add(ip);
  }
  if (!named) {
    if (opts.default === 'all') return null;
    if (opts.primaryIP) ips.add(opts.primaryIP);
  }
  return [...ips].filter((ip) => opts.loopback || !isLoopback(ip)).sort();
}
