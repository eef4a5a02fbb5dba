// Turns a parsed rule's options into a matcher and a target, and runs them against the first
// packet of a new connection, as the kernel's x_tables would: the IP header part (-s, -d, -p,
// -i, -o) first, then each -m module's options in order, stopping at the first that fails —
// so a `-m statistic` behind a failing `-d` asks no random question, as in the kernel.
import { cidrContains, parseCIDR, parseIP, type ParsedCIDR } from '../../api/ip.js';
import type { Choose } from '../explore.js';
import { Fraction } from '../fraction.js';
import { TraceError } from '../nft/eval.js';
import type { TraceEvent } from '../result.js';
import type { Option, ParsedRule } from './parse.js';

/** The packet as the rules see it, changed by marks and NAT as the walk goes. */
export interface IptPacket {
  family: 'IPv4' | 'IPv6';
  saddr: string;
  daddr: string;
  protocol: string;
  sport: number;
  dport: number;
  mark: number;
  /** Set by DNAT (conntrack's DNAT state). */
  dnat: { ip: string; port: number } | null;
  masquerade: boolean;
  accepted: boolean;
  inInterface: string | null;
  outInterface: string | null;
}

export interface RuleContext {
  pkt: IptPacket;
  /** Whether an address belongs to this node (addrtype LOCAL). */
  isLocal: (ip: string) => boolean;
  choose: Choose;
  events: TraceEvent[];
  /** Facts worth telling once (session affinity ...). */
  notes: Set<string>;
}

type Matcher = (ctx: RuleContext, say: (t: string) => void) => boolean;

export type Target =
  | { kind: 'none' }
  | { kind: 'chain'; chain: string; goto: boolean }
  | { kind: 'ACCEPT' | 'DROP' | 'REJECT' | 'RETURN' }
  | { kind: 'MARK'; and: number; xor: number }
  | { kind: 'DNAT'; ip: string; port: number }
  | { kind: 'MASQUERADE' }
  | { kind: 'continue'; name: string };

export interface CompiledRule {
  rule: ParsedRule;
  matchers: Matcher[];
  target: Target;
}

const BUILTIN_TARGETS = new Set(['ACCEPT', 'DROP', 'REJECT', 'RETURN', 'MARK', 'DNAT', 'SNAT', 'MASQUERADE']);
/** Targets that change nothing a trace looks at and let the packet go on. */
const PASSIVE_TARGETS = new Set(['LOG', 'NFLOG', 'TRACE', 'CONNMARK', 'CT', 'NOTRACK', 'AUDIT', 'CHECKSUM']);

export function compileRule(rule: ParsedRule, family: 'IPv4' | 'IPv6', hasChain: (name: string) => boolean): CompiledRule {
  const fail = (msg: string): never => {
    throw new TraceError(`line ${rule.line}: ${msg} [${rule.text}]`);
  };
  const header: Matcher[] = [];
  const modules: Matcher[] = [];
  for (const o of rule.options) {
    const v = o.values[0];
    const need = () => (v === undefined ? fail(`${o.name} needs a value`) : v);
    const neg = (m: Matcher): Matcher => (o.negated ? (c, s) => !m(c, s) : m);
    switch (o.name) {
      case '-s':
      case '--source':
      case '--src': {
        const m = addressMatch(need(), family, fail);
        header.push(neg((c) => m(c.pkt.saddr)));
        break;
      }
      case '-d':
      case '--destination':
      case '--dst': {
        const m = addressMatch(need(), family, fail);
        header.push(neg((c) => m(c.pkt.daddr)));
        break;
      }
      case '-p':
      case '--protocol': {
        const p = need().toLowerCase();
        header.push(neg((c) => p === 'all' || p === c.pkt.protocol || p === String({ tcp: 6, udp: 17, sctp: 132 }[c.pkt.protocol])));
        break;
      }
      case '-i':
      case '--in-interface': {
        const m = ifaceMatch(need());
        header.push(neg((c) => m(c.pkt.inInterface)));
        break;
      }
      case '-o':
      case '--out-interface': {
        const m = ifaceMatch(need());
        header.push(neg((c) => m(c.pkt.outInterface)));
        break;
      }
      case '-m':
      case '--match':
        need();
        break;
      case '--dport':
      case '--destination-port':
      case '--dports': {
        const m = portMatch(need(), fail);
        modules.push(neg((c) => m(c.pkt.dport)));
        break;
      }
      case '--sport':
      case '--source-port':
      case '--sports': {
        const m = portMatch(need(), fail);
        modules.push(neg((c) => m(c.pkt.sport)));
        break;
      }
      case '--comment':
      case '--nfacct-name':
      case '--mode':
      case '--name':
      case '--rsource':
      case '--mask':
      case '--seconds':
      case '--reap':
      case '--set':
        break; // read together with the option that decides (below), or nothing to check
      case '--src-type':
      case '--dst-type': {
        const types = need().split(',');
        if (types.some((t) => t !== 'LOCAL')) fail(`addrtype ${types.join(',')}: only LOCAL is understood`);
        const src = o.name === '--src-type';
        modules.push(neg((c) => c.isLocal(src ? c.pkt.saddr : c.pkt.daddr)));
        break;
      }
      case '--probability': {
        const p = Number(need());
        if (!(p >= 0 && p <= 1)) fail(`--probability ${v}: not between 0 and 1`);
        const [num, den] = asFraction(p);
        modules.push(
          neg((c, say) => {
            if (num === 0) return false;
            if (num === den) return true;
            // One question with two exact answers: kube-proxy's cascade (1/3, then 1/2, then
            // the last rule) makes one branch per endpoint, each with its overall probability.
            const taken = Fraction.of(num, den);
            const hit = c.choose(2, [taken, Fraction.of(den - num, den)]) === 0;
            say(hit ? `statistic: taken (probability ${taken})` : `statistic: not taken (probability ${Fraction.of(den - num, den)} = 1 − ${taken})`);
            return hit;
          }),
        );
        break;
      }
      case '--every':
      case '--packet':
        fail('statistic --mode nth is not understood');
        break;
      case '--rcheck':
      case '--update': {
        const name = recentName(rule.options);
        // Filled by the packets themselves: a client's first connection finds nothing.
        modules.push(
          neg((c, say) => {
            c.notes.add(name);
            say(`recent ${name}: no entry for this client (first connection)`);
            return false;
          }),
        );
        break;
      }
      case '--remove':
        modules.push(neg(() => false));
        break;
      case '--ctstate':
      case '--state': {
        const states = need().split(',');
        modules.push(neg((c) => states.some((s) => (s === 'NEW' ? true : s === 'DNAT' ? c.pkt.dnat !== null : false))));
        break;
      }
      case '--ctstatus': {
        const states = need().split(',');
        modules.push(neg((c) => states.some((s) => s === 'DNAT' && c.pkt.dnat !== null)));
        break;
      }
      case '--mark': {
        const [value, mask] = markValue(need(), fail);
        modules.push(neg((c) => (c.pkt.mark & mask) >>> 0 === value));
        break;
      }
      default:
        fail(`option ${o.name} is not understood by the tracer`);
    }
  }
  return { rule, matchers: [...header, ...modules], target: compileTarget(rule, hasChain, fail) };
}

function recentName(options: Option[]): string {
  return options.find((o) => o.name === '--name')?.values[0] ?? 'DEFAULT';
}

function compileTarget(rule: ParsedRule, hasChain: (name: string) => boolean, fail: (m: string) => never): Target {
  const t = rule.target;
  if (!t) return { kind: 'none' };
  const opt = (name: string) => t.options.find((o) => o.name === name)?.values[0];
  if (!BUILTIN_TARGETS.has(t.name)) {
    if (hasChain(t.name)) return { kind: 'chain', chain: t.name, goto: t.kind === 'goto' };
    if (PASSIVE_TARGETS.has(t.name)) return { kind: 'continue', name: t.name };
    fail(`target ${t.name} is neither a chain of this table nor a target the tracer knows`);
  }
  switch (t.name) {
    case 'ACCEPT':
    case 'DROP':
    case 'REJECT':
    case 'RETURN':
      return { kind: t.name };
    case 'MASQUERADE':
    case 'SNAT':
      return { kind: 'MASQUERADE' };
    case 'DNAT': {
      const to = opt('--to-destination') ?? fail('DNAT without --to-destination');
      const m = /^\[([^\]]+)\]:(\d+)$/.exec(to) ?? /^([^:]+):(\d+)$/.exec(to) ?? /^(.+)()$/.exec(to)!;
      const ip = parseIP(m[1]) ?? fail(`DNAT --to-destination ${to}: not an address`);
      return { kind: 'DNAT', ip: ip.ip, port: m[2] ? parseInt(m[2], 10) : 0 };
    }
    case 'MARK': {
      // Every MARK form is "new = (mark & and) ^ xor".
      const o = t.options[0];
      if (!o) fail('MARK without an option');
      const [value, mask] = markValue(o.values[0] ?? fail(`${o.name} needs a value`), fail);
      switch (o.name) {
        case '--or-mark':
          return { kind: 'MARK', and: ~value >>> 0, xor: value };
        case '--xor-mark':
          return { kind: 'MARK', and: 0xffffffff, xor: value };
        case '--and-mark':
          return { kind: 'MARK', and: value, xor: 0 };
        case '--set-mark':
          return { kind: 'MARK', and: ~mask >>> 0, xor: value };
        case '--set-xmark':
          return { kind: 'MARK', and: ~mask >>> 0, xor: value };
        default:
          return fail(`MARK ${o.name} is not understood`);
      }
    }
  }
  return fail(`target ${t.name} is not understood`);
}

function markValue(text: string, fail: (m: string) => never): [number, number] {
  const [v, m] = text.split('/');
  const value = Number(v);
  const mask = m === undefined ? 0xffffffff : Number(m);
  if (!Number.isInteger(value) || !Number.isInteger(mask)) fail(`mark ${text}: not a number`);
  return [(value & mask) >>> 0, mask >>> 0];
}

function addressMatch(text: string, family: 'IPv4' | 'IPv6', fail: (m: string) => never): (ip: string) => boolean {
  const parts = text.split(',').map((t) => {
    const slash = t.indexOf('/');
    const full = family === 'IPv4' ? 32 : 128;
    if (slash < 0 || Number(t.slice(slash + 1)) === full) {
      const ip = parseIP(slash < 0 ? t : t.slice(0, slash)) ?? fail(`"${t}" is not an address`);
      return (a: string) => a === ip.ip;
    }
    const cidr: ParsedCIDR = parseCIDR(t) ?? fail(`"${t}" is not a CIDR`);
    return (a: string) => cidrContains(cidr, a);
  });
  return (ip) => parts.some((p) => p(ip));
}

function ifaceMatch(name: string): (iface: string | null) => boolean {
  if (name.endsWith('+')) {
    const prefix = name.slice(0, -1);
    return (i) => i !== null && i !== '' && i.startsWith(prefix);
  }
  return (i) => i === name;
}

function portMatch(text: string, fail: (m: string) => never): (port: number) => boolean {
  const ranges = text.split(',').map((p) => {
    const [a, b] = p.split(':').map((x) => (x === '' ? NaN : Number(x)));
    if (!Number.isInteger(a)) fail(`"${text}" is not a port`);
    return [a, b === undefined ? a : Number.isInteger(b) ? b : 65535] as const;
  });
  return (port) => ranges.some(([a, b]) => port >= a && port <= b);
}

/**
 * The exact probability a --probability value stands for. kube-proxy prints 1/n with ten
 * decimals, so the smallest fraction within that rounding (and the kernel's) is the one meant.
 */
export function asFraction(p: number): [number, number] {
  if (p <= 0) return [0, 1];
  if (p >= 1) return [1, 1];
  // The kernel keeps the probability in 31 bits, so iptables-save prints it back with an
  // error of up to 2^-31 (0.3333333333 becomes 0.33333333349).
  const close = (n: number, d: number) => Math.abs(n / d - p) <= 1e-9;
  const k = Math.round(1 / p);
  if (close(1, k)) return [1, k];
  for (let d = 2; d <= 10_000; d++) {
    const n = Math.round(p * d);
    if (n > 0 && close(n, d)) return [n, d];
  }
  throw new TraceError(`--probability ${p}: not a fraction with a denominator up to 10000`);
}
