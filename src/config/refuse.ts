// Settings that would hurt the node itself are refused before anything runs, naming the
// field: a service range that is not one the API server would accept (it takes at most
// 2^20 addresses: /12 for IPv4, /108 for IPv6) or that covers the node's own addresses, its
// default gateway or the pod network (kproxy drops traffic to unallocated service IPs: the
// node's own connections would die); durations that Node's timers cannot hold (they would
// fire after 1 ms); a zero UDP idle timeout; a DNS upstream that is no address.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { cidrContains, parseCIDR, type ParsedCIDR } from '../api/ip.js';
import { ConfigError } from '../util/errors.js';
import type { Config } from './types.js';

/** The longest delay a Node timer holds (2^31-1 ms, 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_SERVICE_RANGE_BITS = 20;

export interface HostFacts {
  addresses: string[];
  gateways: string[];
}

export function hostFacts(): HostFacts {
  const addresses = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address.replace(/%.*$/, '')));
  return { addresses, gateways: defaultGateways() };
}

/** IPv4 default gateways from /proc/net/route (destination 0, gateway in little-endian hex). */
function defaultGateways(): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/net/route', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [, dest, gw] = line.trim().split(/\s+/);
    if (dest !== '00000000' || !gw || gw === '00000000') continue;
    const n = parseInt(gw, 16);
    out.push([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.'));
  }
  return out;
}

function overlaps(a: ParsedCIDR, b: ParsedCIDR): boolean {
  return a.family === b.family && (cidrContains(a, b.ip) || cidrContains(b, a.ip));
}

/**
 * For `kproxy run` only (one-shot commands may describe another node): the service range
 * must not cover this machine's own addresses or its default gateway.
 */
export function refuseNodeConflicts(cfg: Config, host: HostFacts = hostFacts()): void {
  for (const text of cfg.serviceClusterIPRange) {
    const c = parseCIDR(text)!;
    const f = '--service-cluster-ip-range';
    const own = host.addresses.find((a) => cidrContains(c, a));
    if (own) throw new ConfigError(f, `${c.cidr} contains ${own}, an address of this node: its traffic would be taken for Service traffic`);
    const gw = host.gateways.find((a) => cidrContains(c, a));
    if (gw) throw new ConfigError(f, `${c.cidr} contains ${gw}, this node's default gateway`);
  }
}

/**
 * Checks that do not depend on the machine; every command makes them. Settings that exist only
 * as kproxy's flags are named by their flag; the others by their configuration field.
 */
export function refuseHarmfulSettings(cfg: Config): void {
  for (const text of cfg.serviceClusterIPRange) {
    const c = parseCIDR(text)!;
    const bits = (c.family === 'IPv4' ? 32 : 128) - c.prefix;
    const f = '--service-cluster-ip-range';
    if (bits > MAX_SERVICE_RANGE_BITS) {
      throw new ConfigError(f, `${c.cidr} is too large: the API server allows at most 2^${MAX_SERVICE_RANGE_BITS} service addresses (a /${c.family === 'IPv4' ? 12 : 108} or smaller)`);
    }
    for (const pods of cfg.clusterCIDRs) {
      const p = parseCIDR(pods);
      if (p && overlaps(c, p)) throw new ConfigError(f, `${c.cidr} overlaps the cluster CIDR ${p.cidr} (--cluster-cidr, clusterCIDR): Pods and Services need separate ranges`);
    }
  }
  const timers: [string, number][] = [
    ['syncPeriod', cfg.syncPeriodMs],
    ['minSyncPeriod', cfg.minSyncPeriodMs],
    ['configSyncPeriod', cfg.configSyncPeriodMs],
    ['--udp-idle-timeout', cfg.udpIdleTimeoutMs],
  ];
  for (const [f, ms] of timers) {
    if (ms > MAX_TIMER_MS) throw new ConfigError(f, `${ms / 1000} s is longer than the longest timer kproxy can keep (${Math.floor(MAX_TIMER_MS / 3600_000)}h)`);
  }
  if (cfg.udpIdleTimeoutMs <= 0) throw new ConfigError('--udp-idle-timeout', 'must be greater than 0 (a UDP session would end before its reply)');
  for (const label of cfg.clusterDomain.split('.')) {
    if (label.length > 63) throw new ConfigError('--cluster-domain', `the label "${label.slice(0, 20)}…" has ${label.length} characters; a DNS label has at most 63`);
  }
  if (cfg.clusterDomain.length > 253) throw new ConfigError('--cluster-domain', `has ${cfg.clusterDomain.length} characters; a DNS name has at most 253`);
  for (const u of cfg.dnsUpstream) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(u);
    if (!m) continue;
    if (m[1] === '0.0.0.0' || m[1] === '::') throw new ConfigError('--dns-upstream', `"${u}": the unspecified address is not a DNS server`);
    if (Number(m[2]) === 0) throw new ConfigError('--dns-upstream', `"${u}": port 0 is not a DNS server's port`);
  }
}
