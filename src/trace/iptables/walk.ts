// The first packet of a new connection through iptables rules, hook by hook and table by
// table in the order the kernel runs them (the same hook model as the nft tracer):
//   from elsewhere:  PREROUTING (raw, mangle, nat) → routing on the rewritten destination →
//                    INPUT (mangle, filter, nat) or FORWARD (mangle, filter) → POSTROUTING
//                    (mangle, nat)
//   from this node:  OUTPUT (raw, mangle, nat, filter) → POSTROUTING → and, for a local
//                    destination, back in through loopback: PREROUTING, INPUT (nat skipped:
//                    a connection is NATed once per direction)
// DROP and REJECT end the walk; ACCEPT ends only that table's chain; RETURN from a built-in
// chain applies its policy. nat chains run once per connection and direction.
import { parseIP } from '../../api/ip.js';
import { exploreAll, type Choose } from '../explore.js';
import { TraceError } from '../nft/eval.js';
import type { Outcome, Packet, TraceEvent, TraceResult, Verdict } from '../result.js';
import { readRule, type IptablesRuleset, type IptablesTable } from './parse.js';
import { compileRule, type CompiledRule, type IptPacket, type RuleContext } from './rule.js';

export interface IptablesTraceOptions {
  /** Addresses of the node (canonical text); loopback addresses are always local. */
  localAddresses: Iterable<string>;
  /** The interface the packet arrives on (for rules that match -i). */
  inInterface?: string;
}

type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
const HOOK_TABLES: Record<Hook, string[]> = {
  PREROUTING: ['raw', 'mangle', 'nat'],
  INPUT: ['mangle', 'filter', 'security', 'nat'],
  FORWARD: ['mangle', 'filter', 'security'],
  OUTPUT: ['raw', 'mangle', 'nat', 'filter', 'security'],
  POSTROUTING: ['mangle', 'nat'],
};
const MAX_DEPTH = 64;

type ChainResult = 'accept' | 'drop' | 'reject' | 'return' | 'dnat';

/** Compiled rules of one family's tables, cached per ruleset. */
class Program {
  private readonly compiled = new Map<string, CompiledRule[]>();
  constructor(
    readonly tables: Map<string, IptablesTable>,
    readonly family: 'IPv4' | 'IPv6',
  ) {}

  rules(table: IptablesTable, chain: string): CompiledRule[] | undefined {
    const key = `${table.name}\u0000${chain}`;
    let c = this.compiled.get(key);
    if (!c) {
      const parsed = table.chains.get(chain);
      if (!parsed) return undefined;
      c = parsed.map((r) => compileRule(readRule(r), this.family, (n) => table.chains.has(n)));
      this.compiled.set(key, c);
    }
    return c;
  }
}

const programs = new WeakMap<IptablesRuleset, Map<string, Program>>();

function programFor(rs: IptablesRuleset, family: 'IPv4' | 'IPv6'): Program {
  let byFamily = programs.get(rs);
  if (!byFamily) programs.set(rs, (byFamily = new Map()));
  let p = byFamily.get(family);
  if (!p) {
    byFamily.set(family, (p = new Program(tablesOf(rs, family), family)));
  }
  return p;
}

/**
 * The tables a packet of this family sees: those of its "# IPv4:"/"# IPv6:" section, with the
 * rules of text outside any section (iptables-save output, the jump rules) placed first.
 */
function tablesOf(rs: IptablesRuleset, family: 'IPv4' | 'IPv6'): Map<string, IptablesTable> {
  const any = rs.families.get('any');
  const mine = rs.families.get(family);
  if (!any) return mine ?? new Map();
  if (!mine) return any;
  const out = new Map<string, IptablesTable>();
  for (const name of new Set([...any.keys(), ...mine.keys()])) {
    const a = any.get(name);
    const m = mine.get(name);
    const t: IptablesTable = { name, chains: new Map(), policies: new Map([...(a?.policies ?? []), ...(m?.policies ?? [])]) };
    for (const src of [a, m]) for (const [chain, rules] of src?.chains ?? []) t.chains.set(chain, [...(t.chains.get(chain) ?? []), ...rules]);
    out.set(name, t);
  }
  return out;
}

/** Traces `packet` through `rs`, exploring every random branch. */
export function traceIptables(rs: IptablesRuleset, packet: Packet, opts: IptablesTraceOptions): TraceResult {
  const local = new Set<string>();
  for (const a of opts.localAddresses) local.add(a);
  const isLocal = (ip: string) => (packet.family === 'IPv4' ? ip.startsWith('127.') : ip === '::1') || local.has(ip);
  const src = parseIP(packet.src);
  const dst = parseIP(packet.dst);
  if (!src || !dst || src.family !== packet.family || dst.family !== packet.family) {
    throw new TraceError(`source ${packet.src} and destination ${packet.dst} must both be ${packet.family} addresses`);
  }
  const program = programFor(rs, packet.family);
  const notes = new Set<string>();
  const branches = exploreAll((choose: Choose) => {
    const pkt: IptPacket = {
      family: packet.family,
      saddr: src.ip,
      daddr: dst.ip,
      protocol: packet.protocol,
      sport: packet.sport,
      dport: packet.dport,
      mark: 0,
      dnat: null,
      masquerade: false,
      accepted: false,
      inInterface: opts.inInterface ?? null,
      outInterface: null,
    };
    const ctx: RuleContext = { pkt, isLocal, choose, events: [], notes };
    const verdict = walk(ctx, program);
    return { verdict, pkt, events: ctx.events };
  });
  const outcomes: Outcome[] = branches.map(({ result, probability }) => ({
    probability,
    verdict: result.verdict,
    endpoint: result.verdict === 'DNAT' ? result.pkt.dnat : null,
    masquerade: result.pkt.masquerade,
    events: result.events,
  }));
  return { packet, notes: affinityNote(notes), outcomes };
}

function affinityNote(names: Set<string>): string[] {
  if (names.size === 0) return [];
  const list = [...names];
  const shown = list.length > 3 ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more` : list.join(', ');
  return [
    `session affinity: the recent lists ${shown} are filled by the packets themselves; this trace is a client's first connection, ` +
      'so --rcheck never matches. Later connections from the same client, within the affinity timeout, go to the endpoint chosen now.',
  ];
}

function walk(ctx: RuleContext, program: Program): Verdict {
  const pkt = ctx.pkt;
  const natDone = { dst: false, src: false };
  const say = (text: string) => ctx.events.push({ depth: 0, text });

  const runHook = (hook: Hook): 'drop' | 'reject' | null => {
    say(`${hook}`);
    const manip = hook === 'PREROUTING' || hook === 'OUTPUT' ? 'dst' : 'src';
    for (const name of HOOK_TABLES[hook]) {
      const table = program.tables.get(name);
      if (!table || !table.chains.has(hook)) continue;
      if (name === 'nat' && natDone[manip]) continue; // NAT is decided once per connection and direction
      ctx.events.push({ depth: 1, text: `${name} ${hook}` });
      let r = runChain(ctx, program, table, hook, 1);
      if (name === 'nat') natDone[manip] = true;
      if (r === 'return') {
        const policy = table.policies.get(hook) ?? 'ACCEPT';
        r = policy === 'DROP' ? 'drop' : 'accept';
        if (r === 'drop') ctx.events.push({ depth: 2, text: 'no rule decided: chain policy DROP' });
      }
      if (r === 'drop' || r === 'reject') {
        ctx.events.push({ depth: 2, text: r === 'drop' ? '✗ dropped' : '✗ rejected (the client gets an ICMP error or a TCP reset at once)' });
        return r;
      }
    }
    return null;
  };
  const finish = (stopped: 'drop' | 'reject' | null): Verdict => {
    if (stopped) return stopped === 'drop' ? 'DROP' : 'REJECT';
    if (pkt.dnat) return 'DNAT';
    return pkt.accepted ? 'ACCEPT' : 'NONE';
  };

  if (ctx.isLocal(pkt.saddr)) {
    say('the source is an address of this node: the packet starts on the output path');
    pkt.inInterface = '';
    let stop = runHook('OUTPUT');
    if (stop) return finish(stop);
    const toLocal = ctx.isLocal(pkt.daddr);
    say(`routing: ${pkt.daddr} is ${toLocal ? 'local to this node (loopback)' : 'not local to this node'}`);
    stop = runHook('POSTROUTING');
    if (stop) return finish(stop);
    if (toLocal) {
      pkt.inInterface = 'lo';
      stop = runHook('PREROUTING');
      if (stop) return finish(stop);
      stop = runHook('INPUT');
    }
    return finish(stop);
  }
  let stop = runHook('PREROUTING');
  if (stop) return finish(stop);
  const toLocal = ctx.isLocal(pkt.daddr);
  say(`routing: ${pkt.daddr} is ${toLocal ? 'local to this node: INPUT' : 'not local to this node: FORWARD'}`);
  if (toLocal) return finish(runHook('INPUT'));
  stop = runHook('FORWARD');
  if (stop) return finish(stop);
  return finish(runHook('POSTROUTING'));
}

function runChain(ctx: RuleContext, program: Program, table: IptablesTable, chain: string, depth: number): ChainResult {
  if (depth > MAX_DEPTH) throw new TraceError(`chain ${chain}: jumps nest deeper than ${MAX_DEPTH} (a loop?)`);
  const rules = program.rules(table, chain) ?? [];
  for (const r of rules) {
    const aside: string[] = [];
    const say = (t: string) => aside.push(t);
    let hit = true;
    for (const m of r.matchers) {
      if (!m(ctx, say)) {
        hit = false;
        break;
      }
    }
    const t = r.target;
    if (!hit) {
      // Only misses that asked something (a random or an affinity check) are worth telling.
      if (aside.length > 0) {
        ctx.events.push({ depth: depth + 1, text: `${r.rule.text}  (no match)` });
        for (const a of aside) ctx.events.push({ depth: depth + 2, text: a });
      }
      continue;
    }
    const ev: TraceEvent = { depth: depth + 1, text: r.rule.text, step: { table: table.name, chain, rule: r.rule.text } };
    ctx.events.push(ev);
    for (const a of aside) ctx.events.push({ depth: depth + 2, text: a });
    const note = (text: string) => ctx.events.push({ depth: depth + 2, text });
    switch (t.kind) {
      case 'none':
      case 'continue':
        continue;
      case 'ACCEPT':
        ctx.pkt.accepted = true;
        note('→ ACCEPT (this table is done with the packet)');
        return 'accept';
      case 'DROP':
        return 'drop';
      case 'REJECT':
        return 'reject';
      case 'RETURN':
        return 'return';
      case 'MARK':
        ctx.pkt.mark = (((ctx.pkt.mark & t.and) >>> 0) ^ t.xor) >>> 0;
        note(`mark is now 0x${ctx.pkt.mark.toString(16)}`);
        continue;
      case 'MASQUERADE':
        ctx.pkt.masquerade = true;
        note('→ masqueraded: the source becomes the address of the outgoing interface');
        return 'accept';
      case 'DNAT': {
        ctx.pkt.dnat = { ip: t.ip, port: t.port || ctx.pkt.dport };
        ctx.pkt.daddr = t.ip;
        if (t.port) ctx.pkt.dport = t.port;
        note(`→ DNAT to ${t.ip.includes(':') ? `[${t.ip}]` : t.ip}:${ctx.pkt.dport}`);
        return 'dnat';
      }
      case 'chain': {
        ctx.events.push({ depth: depth + 1, text: `${t.goto ? 'goto' : 'jump'} ${t.chain}` });
        const res = runChain(ctx, program, table, t.chain, depth + 1);
        if (res === 'return') {
          if (t.goto) return 'return';
          continue;
        }
        return res;
      }
    }
  }
  return 'return';
}
