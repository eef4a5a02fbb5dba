// `kproxy cleanup` for the iptables mode: on each backend (nft, legacy) and family, the jump
// rules kproxy installed in the built-in chains and its KUBE-* chains, in one restore per
// table (KUBE-FIREWALL too while it holds only kproxy's rule), and route_localnet back to the
// value recorded before kproxy set it, and its nfacct counters; nothing else.
import type { ModeCleanup } from '../cleanup.js';
import { cleanupFamily } from './apply.js';
import { toolsFor } from './backend.js';
import { deleteNfacctCounters } from './nfacct.js';

const BACKENDS = ['nft', 'legacy'] as const;
const FAMILIES = ['IPv4', 'IPv6'] as const;

export function iptablesCleanup(): ModeCleanup {
  return {
    plan: () => '# iptables (nft and legacy backends, IPv4 and IPv6): delete the jump rules kproxy installed and its KUBE-* chains; put route_localnet back; delete its nfacct counters\n',
    async run() {
      const out: string[] = [];
      for (const backend of BACKENDS) {
        for (const family of FAMILIES) {
          const done = await cleanupFamily(toolsFor(backend, 'cleanup'), family);
          if (!done) continue;
          out.push(`iptables: deleted kproxy's KUBE-* chains and jump rules (${family}, iptables-${backend})`);
          if (done.routeLocalnet !== null) out.push(`iptables: net.ipv4.conf.all.route_localnet is ${done.routeLocalnet} again, as before kproxy set it`);
        }
      }
      // The counters go once no rule names them any more (one set per network namespace).
      const counters = await deleteNfacctCounters(toolsFor('nft', 'cleanup'));
      if (counters.length > 0) out.push(`iptables: deleted the nfacct counters ${counters.join(', ')}`);
      return out;
    },
  };
}
