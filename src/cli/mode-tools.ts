// The commands a kernel mode runs. Without them the mode could only fail every sync and retry
// forever; `kproxy run` stops at start instead, in one line naming the command and the Debian
// package that has it (scripts/setup.sh installs them all).
import type { ProxyMode } from '../config/types.js';
import { ConfigError } from '../util/errors.js';
import { onPath } from '../util/on-path.js';

interface Need {
  /** Any one of these on PATH will do. */
  anyOf: string[];
  pkg: string;
}

const IPTABLES: Need = { anyOf: ['iptables-nft-restore', 'iptables-legacy-restore'], pkg: 'iptables' };
const NEEDS: Partial<Record<ProxyMode, Need[]>> = {
  nftables: [{ anyOf: ['nft'], pkg: 'nftables' }],
  // NodePorts, externalIPs and LoadBalancer IPs go through the nftables mode
  ebpf: [{ anyOf: ['nft'], pkg: 'nftables' }],
  iptables: [IPTABLES],
  // also what it falls back to on a kernel without IPVS
  ipvs: [IPTABLES],
};

export function requireModeTools(mode: ProxyMode, path = process.env.PATH ?? ''): void {
  for (const need of NEEDS[mode] ?? []) {
    if (need.anyOf.some((c) => onPath(c, path))) continue;
    const what = need.anyOf.length === 1 ? `the ${need.anyOf[0]} command, which is not on PATH` : `${need.anyOf.join(' or ')}, and neither is on PATH`;
    throw new ConfigError('', `the ${mode} mode runs ${what}; install the Debian package ${need.pkg} (scripts/setup.sh does), or use --proxy-mode userspace`);
  }
}
