// The text of a full sync as `kproxy rules --proxy-mode iptables` prints it and the /rules
// page shows it: for each family, a header line naming the command it is handed to, then
// exactly the input that command receives on a node where kproxy has not run yet (later full
// syncs leave out the jump rules and stale-chain deletions that are not needed). It is the
// iptables-nft text; on iptables-legacy the `-S` line of large rulesets is left out. With
// localhost NodePorts, on a node whose route_localnet is not 1 yet, the applier's IPv4 mangle
// table also declares the chain that records that value (KUBE-PROXY-ROUTE-LOCALNET-<value>).
import type { IPFamily } from '../../api/ip.js';
import type { ProxyState } from '../../model/types.js';
import { compileStreamed, familyContext, FAMILIES, portsOf, type CompileConfig } from './compile.js';
import { jumpRules } from './jumps.js';
import { renderFamily } from './restore.js';

export const familyHeader = (family: IPFamily) => `# ${family}: ${family === 'IPv4' ? 'iptables' : 'ip6tables'}-restore --noflush`;

export function compileText(state: ProxyState, config: CompileConfig): string {
  return FAMILIES.map((f) => {
    // The applier's own full-sync compile and renderer.
    const rs = compileStreamed(portsOf(state, f), familyContext(f, config, state));
    return `${familyHeader(f)}\n${renderFamily(rs, { jumps: jumpRules({ kubeletFirewall: rs.fc.kubeletFirewall }), canary: true, wholeTableCache: true })}`;
  }).join('');
}
