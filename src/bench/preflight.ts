// Why a mode cannot be measured on this machine, or null when it can. A mode that cannot run
// here is listed with this reason, never replaced by something else.
import { existsSync } from 'node:fs';
import { cgroup2Mount } from '../bpf/mounts.js';
import { onPath } from '../util/on-path.js';

export const ALL_MODES = ['userspace', 'nftables', 'iptables', 'ebpf', 'ipvs'] as const;

function missing(tools: string[]): string | null {
  const m = tools.filter((t) => !onPath(t, process.env.PATH, ['/usr/sbin', '/sbin']));
  return m.length ? `${m.join(', ')} not installed (scripts/setup.sh installs ${m.length > 1 ? 'them' : 'it'})` : null;
}

/** Why nothing can be measured: the topology needs root and `ip`. */
export function topologySkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (the bench builds network namespaces)';
  return missing(['ip']);
}

export async function modeSkipReason(mode: string): Promise<string | null> {
  switch (mode) {
    case 'userspace':
      return null;
    case 'nftables':
      return missing(['nft']);
    case 'iptables':
      return missing(['nft', 'iptables-restore']);
    case 'ebpf': {
      const m = missing(['nft']);
      if (m) return m;
      if (!cgroup2Mount()) return 'no cgroup v2 hierarchy is mounted';
      const { probeBpf, probeSockAddr } = await import('../bpf/probe.js');
      return probeBpf() ?? probeSockAddr('CGROUP_INET4_CONNECT');
    }
    case 'ipvs':
      // Without IPVS in this kernel the mode falls back to iptables, which would only
      // measure iptables a second time under another name.
      if (!existsSync('/proc/net/ip_vs')) return 'this kernel has no IPVS loaded (the ipvs mode would fall back to iptables); ipvs is measured in the guest kernel instead (see the guest section)';
      return missing(['ipvsadm', 'ipset', 'iptables-restore']);
    default:
      return `no such mode (modes: ${ALL_MODES.join(', ')})`;
  }
}
