// `kproxy cleanup` for the iptables mode: on each backend (nft, legacy) and family that holds
// kproxy's chains, deletes its jump rules from the built-in chains and flushes and deletes its
// KUBE-* chains (one iptables-save, one restore); a backend holding nothing of kproxy's is
// only read, never written. KUBE-FIREWALL (kubelet writes the same chain) is left.
import type { ModeCleanup } from '../cleanup.js';
import { cleanupFamily } from './apply.js';
import { toolsFor } from './backend.js';

export function iptablesCleanup(): ModeCleanup {
  return {
    plan: () => '# iptables (nft and legacy backends, IPv4 and IPv6): delete the jump rules kproxy installed and its KUBE-* chains\n',
    async run() {
      const lines: string[] = [];
      for (const backend of ['nft', 'legacy'] as const) {
        for (const family of ['IPv4', 'IPv6'] as const) {
          const r = await cleanupFamily(toolsFor(backend, 'cleanup'), family);
          if (r) lines.push(`iptables (${backend}, ${family}): deleted ${r.chains} chains and ${r.jumps} jump rules`);
        }
      }
      return lines;
    },
  };
}
