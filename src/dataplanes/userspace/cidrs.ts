// Parsed CIDR lists and membership: loadBalancerSourceRanges and this node's Pod CIDRs.
import ipaddr from 'ipaddr.js';

export type ParsedRanges = [ipaddr.IPv4 | ipaddr.IPv6, number][];

export function parseRanges(cidrs: readonly string[]): ParsedRanges {
  return cidrs.map((c) => ipaddr.parseCIDR(c));
}

export function inRanges(ranges: ParsedRanges, ip: string): boolean {
  if (ranges.length === 0) return false;
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.process(ip);
  } catch {
    return false;
  }
  return ranges.some(([net, bits]) => a.kind() === net.kind() && a.match(net, bits));
}
