// The userspace mode's "ruleset" as text, for the /rules page: one line per socket the plan
// asks for, with the service port it serves and the endpoints behind it, and whether it is
// open (a socket that could not be bound says why).
import type { UserspacePlan } from './compile.js';

export function listenersText(plan: UserspacePlan, failed: ReadonlyMap<string, string> = new Map()): string {
  const lines: string[] = [];
  for (const l of [...plan.listeners.values()].sort((a, b) => a.key.localeCompare(b.key))) {
    const p = plan.servicePorts.get(l.servicePort);
    if (!p) continue;
    const entry = l.kind === 'internal' ? p.sp.internal : p.sp.external;
    const eps = entry ? entry.endpoints.map((e) => e.endpoint).join(',') : '';
    const none = entry?.noEndpoints ? `(none: ${entry.noEndpoints})` : '(none)';
    const addr = l.ip.includes(':') ? `[${l.ip}]:${l.port}` : `${l.ip}:${l.port}`;
    const ranges = l.sourceRanges.length > 0 ? ` sources=${l.sourceRanges.join(',')}` : '';
    const why = failed.get(l.key);
    lines.push(`${l.protocol} ${addr} -> ${p.sp.servicePortName} ${l.kind} scheduler=${p.scheduler}${ranges} endpoints=${eps || none}${why ? `  NOT LISTENING: ${why}` : ''}`);
  }
  for (const w of plan.warnings) lines.push(`# ${w.kind} ${w.namespace}/${w.name}: ${w.field}: ${w.reason}`);
  return lines.join('\n') + '\n';
}
