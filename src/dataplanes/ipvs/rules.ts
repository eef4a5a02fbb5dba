// `kproxy rules --proxy-mode ipvs`: what a full sync programs, section by section, each in
// the input form of the program that applies it.
import type { ProxyState } from '../../model/types.js';
import { compile, type CompileConfig } from './compile.js';
import { renderIpsetSave } from './ipsets.js';
import { renderSave } from './ipvsadm.js';
import { checkSchedulerFlag } from './scheduler.js';
import { DUMMY_INTERFACE } from './table.js';

export function rulesText(state: ProxyState, config: CompileConfig): string {
  checkSchedulerFlag(config.ipvs.scheduler);
  const r = compile(state, config);
  const out: string[] = [];
  for (const w of r.warnings) out.push(`# warning: ${w}`);
  for (const f of r.families) {
    if (!f.iptables) continue;
    const v = f.family === 'IPv4' ? 'IPv4' : 'IPv6';
    out.push(`# ${v}: addresses on ${DUMMY_INTERFACE} (ip address add)`);
    for (const a of f.addresses) out.push(`${a}/${f.family === 'IPv4' ? 32 : 128}`);
    out.push(`# ${v}: IPVS virtual services and real servers (ipvsadm -S -n form, ipvsadm -R input)`);
    out.push(renderSave(f.services).trimEnd());
    out.push(`# ${v}: ipsets (ipset restore input)`);
    out.push(renderIpsetSave(f.family, f.sets).trimEnd());
    out.push(`# ${v}: iptables rules (${f.family === 'IPv4' ? 'iptables' : 'ip6tables'}-restore --noflush input)`);
    out.push(f.iptables.trimEnd());
  }
  return out.filter((l) => l !== '').join('\n') + '\n';
}
