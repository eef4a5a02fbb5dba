// Runs chains of a parsed nft ruleset against one packet state, as the kernel's nf_tables
// would for the first packet of a new connection: rules in order, matches left to right,
// statements in order, jump/goto/return with a call stack, verdict maps, data maps, marks,
// DNAT and masquerade. Random expressions (numgen) ask `choose`; the tracer explores every answer.
import type { Choose } from '../explore.js';
import type { TraceEvent } from '../result.js';
import { IFNAME, IPV4, IPV6, type Datatype, type Interval, type Value } from './datatypes.js';
import { ensureElements, ensureRules, parseElementsFully } from './parser.js';
import { CONFLICT, fastLookup } from './fast-elements.js';
import { elementKey, typesOf, type Chain, type Element, type Expr, type Match, type NftSet, type Rule, type SetRef, type Stmt, type Table, type VerdictValue } from './ast.js';

export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceError';
  }
}

export const CT_NEW = 8;
export const CT_STATUS_SNAT = 16;
export const CT_STATUS_DNAT = 32;
const FIB_UNICAST = 1;
const FIB_LOCAL = 2;
const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };

/** The packet as the rules see it, mutated by marks and NAT as the walk goes. */
export interface PacketState {
  family: 'IPv4' | 'IPv6';
  saddr: Value;
  daddr: Value;
  l4proto: number;
  sport: number;
  dport: number;
  mark: number;
  ctMark: number;
  ctStatus: number;
  dnat: { ip: string; port: number } | null;
  masquerade: boolean;
  /** A rule (not a chain policy, not NAT) said accept. */
  accepted: boolean;
  inInterface: string | null;
  outInterface: string | null;
}

export interface WalkContext {
  pkt: PacketState;
  isLocal: (family: 'IPv4' | 'IPv6', addr: Value) => boolean;
  choose: Choose;
  events: TraceEvent[];
  /** Sets the ruleset fills at run time (session affinity): empty for a first connection. */
  dynamicSets: ReadonlySet<NftSet>;
  /** Names of those sets a lookup missed for that reason. */
  notes: Set<string>;
}

export type ChainResult = 'accept' | 'drop' | 'reject' | 'return';

const MAX_DEPTH = 64;

export function protoNumber(p: string): number {
  return PROTO_NUMBERS[p];
}

export function runChain(ctx: WalkContext, table: Table, chain: Chain, depth: number): ChainResult {
  ensureRules(table, chain);
  if (depth > MAX_DEPTH) throw new TraceError(`chain ${chain.name}: jumps nest deeper than ${MAX_DEPTH} (a loop?)`);
  for (const rule of chain.rules) {
    const v = runRule(ctx, table, chain, rule, depth);
    if (v === null || v.k === 'continue') continue;
    switch (v.k) {
      case 'accept':
      case 'drop':
      case 'reject':
        return v.k;
      case 'return':
        return 'return';
      case 'jump': {
        const target = table.chains.get(v.chain!)!;
        ctx.events.push({ depth: depth + 1, text: `chain ${target.name}${target.comment ? ` (${target.comment})` : ''}` });
        const r = runChain(ctx, table, target, depth + 1);
        if (r !== 'return') return r;
        continue;
      }
      case 'goto': {
        const target = table.chains.get(v.chain!)!;
        ctx.events.push({ depth: depth + 1, text: `chain ${target.name}${target.comment ? ` (${target.comment})` : ''}` });
        return runChain(ctx, table, target, depth + 1);
      }
    }
  }
  return 'return';
}

/** Returns the rule's verdict, or null when it did not match or ended without one. */
function runRule(ctx: WalkContext, table: Table, chain: Chain, rule: Rule, depth: number): VerdictValue | null {
  const aside: string[] = [];
  for (const m of rule.matches) {
    if (match(ctx, table, m, (t) => aside.push(t))) continue;
    if (aside.length > 0) {
      // A lookup worth telling about (session affinity) made the rule miss.
      ctx.events.push({ depth: depth + 1, text: `${rule.text}  (no match)` });
      for (const t of aside) ctx.events.push({ depth: depth + 2, text: t });
    }
    return null;
  }
  const ev: TraceEvent = { depth: depth + 1, text: rule.text, step: { table: `${table.family} ${table.name}`, chain: chain.name, rule: rule.text } };
  ctx.events.push(ev);
  const say = (text: string) => ctx.events.push({ depth: depth + 2, text });
  for (const s of rule.stmts) {
    const v = runStmt(ctx, table, s, say);
    if (v === 'break') return null;
    if (v) {
      if (v.k === 'accept' && s.k === 'verdict') ctx.pkt.accepted = true;
      return v;
    }
  }
  return null;
}

function runStmt(ctx: WalkContext, table: Table, s: Stmt, say: (t: string) => void): VerdictValue | 'break' | null {
  const pkt = ctx.pkt;
  switch (s.k) {
    case 'nop':
      return null;
    case 'verdict':
      return s.v;
    case 'vmap': {
      const set = resolve(table, s.map);
      if (missesForEveryDraw(ctx, table, s.key, set, say)) return 'break';
      const key = evaluate(ctx, table, s.key, say);
      if (key === null) return 'break';
      const el = lookup(ctx, table, set, key, say);
      if (!el) {
        say(`→ ${formatKey(typesOf(s.key), key)}: no element in ${setName(s.map)}`);
        return 'break';
      }
      const v = el.value as VerdictValue;
      say(`→ ${formatKey(typesOf(s.key), key)} : ${v.k}${v.chain ? ' ' + v.chain : ''}${el.comment ? `  (${el.comment})` : ''}`);
      return v;
    }
    case 'setmark': {
      const v = evaluate(ctx, table, s.value, say);
      if (v === null) return 'break';
      if (s.target === 'meta') pkt.mark = v[0] as number;
      else pkt.ctMark = v[0] as number;
      say(`→ ${s.target} mark is now 0x${(v[0] as number).toString(16)}`);
      return null;
    }
    case 'update': {
      const key = evaluate(ctx, table, s.key, say);
      if (key === null) return 'break';
      const set = table.sets.get(s.set)!;
      const timeout = s.timeout || set.timeout;
      say(`→ remembers ${formatKey(typesOf(s.key), key)} in @${s.set}${timeout ? ` for ${timeout}` : ''}: later connections of this client take the same way`);
      return null;
    }
    case 'dnat': {
      const v = evaluate(ctx, table, s.target, say);
      if (v === null) return 'break';
      const dts = lookupTypes(table, s.target);
      const fam = dts[0] === IPV4 ? 'IPv4' : dts[0] === IPV6 ? 'IPv6' : null;
      if (fam !== pkt.family) throw new TraceError(`dnat to ${formatKey(dts, v)} does not fit an ${pkt.family} packet`);
      const port = v.length > 1 ? (v[1] as number) : pkt.dport;
      pkt.daddr = v[0];
      pkt.dport = port;
      pkt.ctStatus |= CT_STATUS_DNAT;
      pkt.dnat = { ip: dts[0].format(v[0]), port };
      say(`→ destination rewritten to ${fam === 'IPv6' ? `[${pkt.dnat.ip}]` : pkt.dnat.ip}:${port}`);
      return { k: 'accept' };
    }
    case 'masquerade':
      pkt.masquerade = true;
      pkt.ctStatus |= CT_STATUS_SNAT;
      say('→ source rewritten to the address of the outgoing interface (masquerade)');
      return { k: 'accept' };
  }
}

function resolve(table: Table, ref: SetRef): NftSet {
  if ('anon' in ref) return ref.anon;
  const set = table.sets.get(ref.name)!;
  ensureElements(table, set);
  return set;
}

function setName(ref: SetRef): string {
  return 'anon' in ref ? 'the anonymous map' : `@${ref.name}`;
}

function lookup(ctx: WalkContext, table: Table, set: NftSet, key: Value[], say: (t: string) => void): Element | null {
  if (ctx.dynamicSets.has(set)) {
    ctx.notes.add(set.name);
    say(`→ @${set.name} lookup misses: first connection of this client (no affinity entry yet)`);
    return null;
  }
  if (set.raw || set.fast) {
    const hit = fastLookup(set, key);
    // A conflict, or a verdict naming a chain that does not exist: the full parser names the line.
    const missingChain = hit && hit !== CONFLICT && hit.value && 'k' in hit.value && hit.value.chain !== undefined && !table.chains.has(hit.value.chain);
    if (hit === CONFLICT || missingChain)
      parseElementsFully(table, set); // throws, naming the line
    else if (hit) return hit;
  }
  const exact = set.exact.get(elementKey(key));
  if (exact) return exact;
  const candidates = set.keyTypes.includes(IFNAME) ? [...set.exact.values(), ...set.ranges] : set.ranges;
  for (const el of candidates) {
    let ok = true;
    for (let i = 0; i < key.length && ok; i++) ok = within(el.key[i], key[i]);
    if (ok) return el;
  }
  return null;
}

/** v lies in the interval; an interface name ending in "*" matches every name it starts. */
function within(iv: Interval, v: Value): boolean {
  if (typeof iv.lo === 'string' && iv.lo.endsWith('*')) return typeof v === 'string' && v.startsWith(iv.lo.slice(0, -1));
  return iv.lo <= v && v <= iv.hi;
}

function match(ctx: WalkContext, table: Table, m: Match, say: (t: string) => void): boolean {
  const v = evaluate(ctx, table, m.expr, say);
  if (v === null) return false;
  if ('set' in m.rhs) {
    const hit = lookup(ctx, table, resolve(table, m.rhs.set), v, say) !== null;
    return m.op === 'ne' ? !hit : hit;
  }
  const iv = m.rhs.values;
  switch (m.op) {
    case 'eq':
    case 'ne': {
      let inside = true;
      for (let i = 0; i < iv.length && inside; i++) inside = within(iv[i], v[i]);
      return m.op === 'eq' ? inside : !inside;
    }
    case 'bit':
      return ((v[0] as number) & (iv[0].lo as number)) !== 0;
    case 'lt':
      return v[0] < iv[0].lo;
    case 'gt':
      return v[0] > iv[0].lo;
    case 'le':
      return v[0] <= iv[0].lo;
    case 'ge':
      return v[0] >= iv[0].lo;
  }
}

/** The expression's value(s), or null when the packet has no such field (the rule does not match). */
function evaluate(ctx: WalkContext, table: Table, e: Expr, say: (t: string) => void): Value[] | null {
  const pkt = ctx.pkt;
  switch (e.k) {
    case 'payload': {
      if (e.proto === 'ip' || e.proto === 'ip6') {
        if ((e.proto === 'ip') !== (pkt.family === 'IPv4')) return null;
        return [e.field === 'saddr' ? pkt.saddr : e.field === 'daddr' ? pkt.daddr : pkt.l4proto];
      }
      if (e.proto !== 'th' && PROTO_NUMBERS[e.proto] !== pkt.l4proto) return null;
      return [e.field === 'sport' ? pkt.sport : pkt.dport];
    }
    case 'meta':
      switch (e.key) {
        case 'l4proto':
          return [pkt.l4proto];
        case 'mark':
          return [pkt.mark];
        case 'nfproto':
          return [pkt.family === 'IPv4' ? 2 : 10];
        case 'iifname':
        case 'oifname': {
          const name = e.key === 'iifname' ? pkt.inInterface : pkt.outInterface;
          if (name === null) throw new TraceError(`a rule matches "meta ${e.key}": give the packet's ${e.key === 'iifname' ? 'input' : 'output'} interface (--in-interface)`);
          return [name];
        }
      }
      break;
    case 'ct':
      return [e.key === 'state' ? CT_NEW : e.key === 'status' ? pkt.ctStatus : pkt.ctMark];
    case 'fib': {
      const addr = e.addr === 'saddr' ? pkt.saddr : pkt.daddr;
      return [ctx.isLocal(pkt.family, addr) ? FIB_LOCAL : FIB_UNICAST];
    }
    case 'numgen': {
      const n = ctx.choose(e.mod);
      say(`numgen random mod ${e.mod}${e.offset ? ` offset ${e.offset}` : ''} → ${n + e.offset} (one of ${e.mod} equally likely branches)`);
      return [n + e.offset];
    }
    case 'binop': {
      const l = evaluate(ctx, table, e.left, say);
      if (l === null) return null;
      const a = l[0] as number;
      return [(e.op === 'and' ? a & e.right : e.op === 'or' ? a | e.right : a ^ e.right) >>> 0];
    }
    case 'concat': {
      const out: Value[] = [];
      for (const i of e.items) {
        const v = evaluate(ctx, table, i, say);
        if (v === null) return null;
        out.push(...v);
      }
      return out;
    }
    case 'const':
      return e.values;
    case 'lookup': {
      const set = resolve(table, e.set);
      if (missesForEveryDraw(ctx, table, e.key, set, say)) return null;
      const key = evaluate(ctx, table, e.key, say);
      if (key === null) return null;
      const el = lookup(ctx, table, set, key, say);
      if (!el) {
        say(`→ ${formatKey(typesOf(e.key), key)}: no element in ${setName(e.set)}`);
        return null;
      }
      const value = el.value as Value[];
      say(`→ ${formatKey(typesOf(e.key), key)} : ${formatKey(set.valueTypes as Datatype[], value)} in ${setName(e.set)}${el.comment ? `  (${el.comment})` : ''}`);
      return value;
    }
  }
  return null;
}

/**
 * A lookup keyed by a random number that finds nothing whatever the number is (the NodePort
 * rule of a shared pick chain, say, after the ClusterIP rule): the walk goes on the same way
 * for every draw, so it is not split into branches that differ only in a number.
 */
function missesForEveryDraw(ctx: WalkContext, table: Table, key: Expr, set: NftSet, say: (t: string) => void): boolean {
  const items = key.k === 'concat' ? key.items : [key];
  const ng = items.find((i) => i.k === 'numgen');
  if (!ng || ng.k !== 'numgen' || ctx.dynamicSets.has(set)) return false;
  const choose = ctx.choose;
  const quiet = () => undefined;
  try {
    for (let v = 0; v < ng.mod; v++) {
      ctx.choose = () => v;
      const k = evaluate(ctx, table, key, quiet);
      if (k === null || lookup(ctx, table, set, k, quiet)) return false;
    }
  } finally {
    ctx.choose = choose;
  }
  const others = items.filter((i) => i !== ng);
  const shown = others.length > 0 ? `${formatKey(others.flatMap(typesOf), evaluate(ctx, table, { k: 'concat', items: others }, quiet) ?? [])} . ` : '';
  say(`→ ${shown}numgen random mod ${ng.mod}${ng.offset ? ` offset ${ng.offset}` : ''}: no element in @${set.name} for any draw`);
  return true;
}

export function formatKey(dts: readonly Datatype[], v: readonly Value[]): string {
  return v.map((x, i) => (dts[i] ? dts[i].format(x) : String(x))).join(' . ');
}

/** For `lookup` typing: the value types of a named data map. */
export function lookupTypes(table: Table, e: Expr): Datatype[] {
  if (e.k === 'lookup' && 'name' in e.set) {
    const vt = table.sets.get(e.set.name)?.valueTypes;
    return Array.isArray(vt) ? vt : [];
  }
  return typesOf(e);
}
