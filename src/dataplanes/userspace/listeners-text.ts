// The userspace mode's "ruleset" as text: one line per listening socket, with the service
// port it serves and the endpoints behind it. The /rules page shows it in this mode.
import type { ProxyState } from '../../model/types.js';
import { compile, type CompileOptions } from './compile.js';

export function listenersText(state: ProxyState, opts: CompileOptions): string {
  const plan = compile(state, opts);
  const lines: string[] = [];
  for (const l of [...plan.listeners.values()].sort((a, b) => a.key.localeCompare(b.key))) {
    const p = plan.servicePorts.get(l.servicePort);
    if (!p) continue;
    const entry = l.kind === 'internal' ? p.sp.internal : p.sp.external;
    const eps = entry ? entry.endpoints.map((e) => e.endpoint).join(',') : '';
    const none = entry?.noEndpoints ? `(none: ${entry.noEndpoints})` : '(none)';
    const addr = l.ip.includes(':') ? `[${l.ip}]:${l.port}` : `${l.ip}:${l.port}`;
    const ranges = l.sourceRanges.length > 0 ? ` sources=${l.sourceRanges.join(',')}` : '';
    lines.push(`${l.protocol} ${addr} -> ${p.sp.servicePortName} ${l.kind} scheduler=${p.scheduler}${ranges} endpoints=${eps || none}`);
  }
  for (const w of plan.warnings) lines.push(`# ${w.kind} ${w.namespace}/${w.name}: ${w.field}: ${w.reason}`);
  return lines.join('\n') + '\n';
}
