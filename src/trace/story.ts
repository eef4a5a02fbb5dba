// The human form of a trace: the packet's story. What every branch shares is told once;
// where random load-balancing splits the walk, each branch is told with its exact probability.
import { joinHostPort } from '../api/ip.js';
import { endpointsOf, overallVerdict, type Outcome, type TraceEvent, type TraceResult } from './result.js';

const host = (ip: string, port: number) => (port === 0 ? ip : joinHostPort(ip, port));
/** 100%, 50%, 33.33%, 12.5%: trailing zeros of the decimals dropped (only of the decimals: 100 stays 100). */
const pct = (x: number) => `${(x * 100).toFixed(2).replace(/\.?0+$/, '')}%`;

export interface StoryContext {
  /** e.g. "node test-node, local addresses 192.168.0.2, 2001:db8::1" */
  where?: string;
}

export function renderStory(r: TraceResult, ctx: StoryContext = {}): string {
  const p = r.packet;
  const out: string[] = [];
  out.push(`${p.protocol.toUpperCase()} ${host(p.src, p.sport)} → ${host(p.dst, p.dport)}: the first packet of a new connection (ct state new)`);
  if (ctx.where) out.push(ctx.where);
  out.push('');
  const events = (evs: TraceEvent[], indent: string) => {
    for (const e of evs) out.push(`${indent}${'  '.repeat(e.depth)}${e.text}`);
  };
  const shared = commonPrefix(r.outcomes.map((o) => o.events));
  events(r.outcomes[0].events.slice(0, shared), '');
  if (r.outcomes.length === 1) {
    events(r.outcomes[0].events.slice(shared), '');
  } else {
    out.push('');
    out.push(`Here the walk splits into ${r.outcomes.length} branches:`);
    r.outcomes.forEach((o, i) => {
      out.push('');
      out.push(`  branch ${i + 1} of ${r.outcomes.length} (probability ${o.probability} = ${pct(o.probability.toNumber())}): ${fate(o)}`);
      events(o.events.slice(shared), '    ');
    });
  }
  out.push('');
  out.push(summary(r));
  if (r.notes.length > 0) {
    out.push('');
    out.push('Notes:');
    for (const n of r.notes) out.push(`  - ${n}`);
  }
  return out.join('\n') + '\n';
}

function fate(o: Outcome): string {
  switch (o.verdict) {
    case 'DNAT':
      return `DNAT to ${host(o.endpoint!.ip, o.endpoint!.port)}${o.masquerade ? ', masqueraded' : ''}`;
    case 'NONE':
      return 'no kproxy rule decided';
    default:
      return o.verdict;
  }
}

function summary(r: TraceResult): string {
  const v = overallVerdict(r);
  const masq = r.outcomes.some((o) => o.masquerade);
  const partly = masq && !r.outcomes.every((o) => o.masquerade);
  const masqText = masq
    ? `masqueraded: yes${partly ? ' (only on the branches marked so above)' : ''} — the endpoint sees the node's address as the source`
    : 'masqueraded: no — the endpoint sees the client address';
  switch (v) {
    case 'DNAT': {
      const eps = endpointsOf(r);
      const lines = eps.map((e) => `    ${host(e.ip, e.port)}  probability ${e.probability} (${pct(e.probability.toNumber())})`);
      return [`Verdict: DNAT to ${eps.length === 1 ? 'one endpoint' : `one of ${eps.length} endpoints`}:`, ...lines, `  ${masqText}`].join('\n');
    }
    case 'REJECT':
      return 'Verdict: REJECT — the connection is refused at once (ICMP unreachable or TCP reset)';
    case 'DROP':
      return 'Verdict: DROP — the packet is discarded; the client times out';
    case 'ACCEPT':
      return `Verdict: ACCEPT — a rule explicitly accepted the packet; ${masqText}`;
    case 'NONE':
      return 'Verdict: NONE — no kproxy rule decided anything: the packet continues as routing takes it';
  }
}

function commonPrefix(lists: TraceEvent[][]): number {
  if (lists.length === 1) return lists[0].length;
  let n = 0;
  for (;;) {
    const e = lists[0][n];
    if (!e || !lists.every((l) => l[n] && l[n].text === e.text && l[n].depth === e.depth)) return n;
    n++;
  }
}
