// A service CIDR seen as a numbered range of assignable addresses, so that an allocation can
// be "the n-th address of the range". As kube-apiserver does, the network address (and, for
// IPv4, the broadcast address) of a CIDR are never handed out.
import ipaddr from 'ipaddr.js';
import { bigIntToIP, ipToBigInt, parseCIDR, type IPFamily } from '../../api/ip.js';

export interface AddressRange {
  cidr: string;
  family: IPFamily;
  /** Number of assignable addresses. */
  size: bigint;
  /** The address at offset n (0 <= n < size). */
  at(n: bigint): string;
  /** The offset of ip, or -1n when ip is not assignable from this range. */
  offsetOf(ip: string): bigint;
}

export function addressRange(cidrText: string): AddressRange {
  const c = parseCIDR(cidrText);
  if (!c) throw new Error(`"${cidrText}" is not a CIDR`);
  const bits = c.family === 'IPv4' ? 32 : 128;
  const total = 1n << BigInt(bits - c.prefix);
  const network = ipToBigInt(c.cidr.split('/')[0]);
  // Skip the network address; IPv4 also loses its broadcast address. Tiny ranges keep all.
  const skipFirst = total > 2n ? 1n : 0n;
  const skipLast = c.family === 'IPv4' && total > 2n ? 1n : 0n;
  const first = network + skipFirst;
  const size = total - skipFirst - skipLast;
  return {
    cidr: c.cidr,
    family: c.family,
    size,
    at: (n) => bigIntToIP(first + n, c.family),
    offsetOf: (ip) => {
      const p = ipaddr.parse(ip);
      if ((p.kind() === 'ipv4') !== (c.family === 'IPv4')) return -1n;
      const off = ipToBigInt(ip) - first;
      return off >= 0n && off < size ? off : -1n;
    },
  };
}
