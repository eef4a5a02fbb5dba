// Reads iptables-save output, or iptables-restore input such as `kproxy rules --proxy-mode
// iptables` prints, into tables of chains of rules. Each rule keeps its original text (what
// the trace shows) and its parsed options; the options are turned into matches and a target
// by rule.ts. Text that holds both families is split at kproxy's "# IPv4: …" / "# IPv6: …"
// header lines; text without them is taken for whichever family is traced.
import { TraceError } from '../nft/eval.js';

export interface Option {
  name: string;
  negated: boolean;
  values: string[];
}

export interface ParsedRule {
  text: string;
  line: number;
  /** The options before -j/-g, in order; a -m starts a new module's options. */
  options: Option[];
  target: { kind: 'jump' | 'goto'; name: string; options: Option[] } | null;
}

/** A rule line kept as text by a lazy parse: read when a trace first reaches its chain. */
export interface PendingRule {
  pending: string;
  line: number;
  /** Words before the rule's own options: "-A CHAIN" or "-I CHAIN [N]". */
  skip: number;
}

export type RuleEntry = ParsedRule | PendingRule;

export interface IptablesTable {
  name: string;
  chains: Map<string, RuleEntry[]>;
  policies: Map<string, string>;
}

export interface IptablesRuleset {
  /** Tables by family ('any' when the text named none). */
  families: Map<'IPv4' | 'IPv6' | 'any', Map<string, IptablesTable>>;
}

export class IptablesSyntaxError extends TraceError {}

/** Splits a line into words, honouring double quotes and backslash escapes inside them. */
export function words(line: string): string[] {
  // Without a quote a line is its blank-separated words (most lines of a large ruleset).
  if (line.indexOf('"') < 0) {
    const t = line.trim();
    return t === '' ? [] : t.split(/\s+/);
  }
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    let w = '';
    let quoted = false;
    while (i < line.length && (quoted || !/\s/.test(line[i]))) {
      const ch = line[i];
      if (ch === '"') quoted = !quoted;
      else if (ch === '\\' && quoted && i + 1 < line.length) w += line[++i];
      else w += ch;
      i++;
    }
    if (quoted) throw new IptablesSyntaxError(`unterminated quote in: ${line}`);
    out.push(w);
  }
  return out;
}

const BUILTIN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

export interface ParseOptions {
  /**
   * Keep rule lines as text until a trace reaches their chain (the structure — tables,
   * chains, policies, which chain each rule is in — is read at once). A malformed rule in a
   * chain no trace reaches is then not reported. Default: read every rule now.
   */
  lazy?: boolean;
}

/** The rule an entry holds, read now if a lazy parse kept it as text. */
export function readRule(e: RuleEntry): ParsedRule {
  if (!('pending' in e)) return e;
  const line = e.pending;
  return parseRule(words(line).slice(e.skip), line, e.line, () => `line ${e.line}: ${line.length > 200 ? line.slice(0, 200) + '…' : line}`);
}

export function parseIptables(text: string, opts: ParseOptions = {}): IptablesRuleset {
  const families: IptablesRuleset['families'] = new Map();
  let family: 'IPv4' | 'IPv6' | 'any' = 'any';
  let table: IptablesTable | null = null;
  const lines = text.split('\n');
  const tablesOf = (f: typeof family) => {
    let m = families.get(f);
    if (!m) families.set(f, (m = new Map()));
    return m;
  };
  lines.forEach((raw, idx) => {
    const line = raw.trim();
    const n = idx + 1;
    const where = () => `line ${n}: ${line.length > 200 ? line.slice(0, 200) + '…' : line}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s*(IPv4|IPv6):/.exec(line);
      if (m) family = m[1] as 'IPv4' | 'IPv6';
      return;
    }
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      const tables = tablesOf(family);
      table = tables.get(name) ?? { name, chains: new Map(), policies: new Map() };
      tables.set(name, table);
      return;
    }
    if (line === 'COMMIT') {
      table = null;
      return;
    }
    if (!table) throw new IptablesSyntaxError(`${where()}: outside a table (no "*table" line before it)`);
    const t: IptablesTable = table;
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (!t.chains.has(name)) t.chains.set(name, []);
      if (BUILTIN.has(name) && policy && policy !== '-') t.policies.set(name, policy);
      return;
    }
    const w = words(line);
    const op = w[0];
    if (op === '-X' || op === '--delete-chain') {
      if (w[1]) t.chains.delete(w[1]);
      return;
    }
    if (op === '-F' || op === '--flush') {
      if (w[1]) t.chains.set(w[1], []);
      return;
    }
    // A listing in restore input (kproxy's large syncs start the nat table with one) changes nothing.
    if (op === '-S' || op === '--list-rules') return;
    if (op === '-N' || op === '--new-chain') {
      if (w[1] && !t.chains.has(w[1])) t.chains.set(w[1], []);
      return;
    }
    if (op !== '-A' && op !== '--append' && op !== '-I' && op !== '--insert') {
      throw new IptablesSyntaxError(`${where()}: expected -A, -I, -N, -X, -F, a ":chain" or "*table" line`);
    }
    const chain = w[1];
    if (!chain) throw new IptablesSyntaxError(`${where()}: no chain named`);
    let skip = 2;
    let position = -1;
    if ((op === '-I' || op === '--insert') && /^\d+$/.test(w[2] ?? '')) {
      position = parseInt(w[2], 10) - 1;
      skip = 3;
    } else if (op === '-I' || op === '--insert') position = 0;
    const rule: RuleEntry = opts.lazy ? { pending: line, line: n, skip } : parseRule(w.slice(skip), line, n, where);
    const list = t.chains.get(chain) ?? [];
    t.chains.set(chain, list);
    if (position < 0) list.push(rule);
    else list.splice(position, 0, rule);
  });
  return { families };
}

function parseRule(w: string[], text: string, line: number, where: () => string): ParsedRule {
  const options: Option[] = [];
  let target: ParsedRule['target'] = null;
  let negate = false;
  let i = 0;
  let into = options;
  while (i < w.length) {
    const tok = w[i++];
    if (tok === '!') {
      negate = true;
      continue;
    }
    if (!tok.startsWith('-')) throw new IptablesSyntaxError(`${where()}: unexpected "${tok}"`);
    if (tok === '-j' || tok === '--jump' || tok === '-g' || tok === '--goto') {
      const name = w[i++];
      if (!name) throw new IptablesSyntaxError(`${where()}: ${tok} without a target`);
      target = { kind: tok === '-g' || tok === '--goto' ? 'goto' : 'jump', name, options: [] };
      into = target.options;
      continue;
    }
    const values: string[] = [];
    // An option's values run up to the next option; "!" may stand between an option and its
    // value too (old iptables-save: "--ctstate ! NEW" is not produced by modern versions).
    while (i < w.length && !w[i].startsWith('-') && w[i] !== '!') values.push(w[i++]);
    // A negative number never follows these options, so "-" always starts the next option.
    into.push({ name: tok, negated: negate, values });
    negate = false;
  }
  if (negate) throw new IptablesSyntaxError(`${where()}: "!" at the end of the rule`);
  return { text, line, options, target };
}
