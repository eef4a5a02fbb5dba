// `kproxy cleanup` for the iptables mode: on each backend (nft, legacy) and family, the jump
// rules kproxy installed in the built-in chains and its KUBE-* chains, in one restore per
// table; nothing else.
import type { ModeCleanup } from '../cleanup.js';
import { cleanupFamily } from './apply.js';
import { toolsFor } from './backend.js';

const BACKENDS = ['nft', 'legacy'] as const;
const FAMILIES = ['IPv4', 'IPv6'] as const;

export function iptablesCleanup(): ModeCleanup {
  return {
    plan: () => '# iptables (nft and legacy backends, IPv4 and IPv6): delete the jump rules kproxy installed and its KUBE-* chains\n',
    async run() {
      const out: string[] = [];
      for (const backend of BACKENDS) {
        for (const family of FAMILIES) {
          if (await cleanupFamily(toolsFor(backend, 'cleanup'), family)) out.push(`iptables: deleted kproxy's KUBE-* chains and jump rules (${family}, iptables-${backend})`);
        }
      }
      return out;
    },
  };
}
