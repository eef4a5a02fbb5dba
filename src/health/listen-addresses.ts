// Where the health-check node ports listen. kube-proxy binds each healthCheckNodePort on the
// node IPs that --nodeport-addresses selects (every interface address inside its CIDRs,
// loopback included), and on every address only when the list selects everything (empty, or a
// /0). A family that no entry names gets no listener, as a NodePort of that family would not
// be accepted there either.
import { networkInterfaces } from 'node:os';
import { parseCIDR, type IPFamily } from '../api/ip.js';
import { nodePortAddresses } from '../model/nodeports.js';
import type { NodeInfo } from '../model/types.js';

/** Every address of this machine's interfaces, loopback included, IPv6 link-local excluded. */
export function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (!a.address.startsWith('fe80:')) out.push(a.address);
  return out;
}

/**
 * The addresses to bind, or null for every address. `spec` is --nodeport-addresses; `candidates`
 * the machine's interface addresses.
 */
export function healthCheckAddresses(spec: readonly string[], candidates: readonly string[], node?: Pick<NodeInfo, 'primaryIPv4' | 'primaryIPv6'>): string[] | null {
  if (spec.length === 0) return null;
  const out: string[] = [];
  for (const family of ['IPv4', 'IPv6'] as IPFamily[]) {
    const named = spec.some((e) => e === 'primary' || parseCIDR(e)?.family === family);
    if (!named) continue;
    const primaryIP = (family === 'IPv4' ? node?.primaryIPv4 : node?.primaryIPv6) ?? '';
    const ips = nodePortAddresses(spec, family, { candidates, primaryIP, default: 'primary', loopback: true });
    if (ips === null) out.push(family === 'IPv4' ? '0.0.0.0' : '::');
    else out.push(...ips);
  }
  // 0.0.0.0 and :: together are every address: one dual-stack listener on :: does it.
  if (out.includes('0.0.0.0') && out.includes('::')) return null;
  return out;
}
