// The text of a full sync as `kproxy rules --proxy-mode iptables` prints it and the /rules
// page shows it: for each family, a header line naming the command it is handed to, then
// exactly the input that command receives. The jump rules in the built-in chains are not part
// of it (they are inserted one by one with `iptables -I`); jumpRulesFor() gives them.
import type { IPFamily } from '../../api/ip.js';
import type { ProxyState } from '../../model/types.js';
import { compileFamily, FAMILIES, type CompileConfig } from './compile.js';
import { jumpRules, jumpRulesText } from './jumps.js';
import { renderFamily } from './restore.js';

export const familyHeader = (family: IPFamily) => `# ${family}: ${family === 'IPv4' ? 'iptables' : 'ip6tables'}-restore --noflush`;

export function compileText(state: ProxyState, config: CompileConfig): string {
  return FAMILIES.map((f) => `${familyHeader(f)}\n${renderFamily(compileFamily(state, config, f))}`).join('');
}

/** The jump rules of one family in iptables-save form (for the tracer). */
export function jumpRulesFor(state: ProxyState, config: CompileConfig, family: IPFamily): string {
  return jumpRulesText(jumpRules({ kubeletFirewall: family === 'IPv4' && config.localhostNodePorts }));
}
