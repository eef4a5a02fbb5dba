// nft text → Ruleset. Accepts both forms kproxy (and `nft list ruleset`) produce: transaction
// commands (`add table`, `add chain … { type … }`, `add rule`, `add element`, `delete element`,
// `flush chain`, …) and `table … { chain … { … } set … { … } }` blocks. Commands are applied in
// order, as `nft -f` applies one transaction. Anything malformed, unknown or not modelled by
// the tracer is an NftSyntaxError naming the line: the tracer never guesses.
import {
  CT_STATE,
  CT_STATUS,
  FIB_ADDRTYPE,
  IFNAME,
  INET_PROTO,
  INET_SERVICE,
  INTEGER,
  IPV4,
  IPV6,
  MARK,
  NAMED_TYPES,
  NF_PROTO,
  parseLiteral,
  type Datatype,
  type Interval,
  type Value,
} from './datatypes.js';
import { Lexer, NftSyntaxError, T, type Span, type Token } from './lexer.js';
import {
  elementKey,
  typesOf,
  type BaseChainSpec,
  type Chain,
  type ChainType,
  type Element,
  type Expr,
  type Family,
  type Hook,
  type Match,
  type MatchOp,
  type NftSet,
  type Rule,
  type Ruleset,
  type SetRef,
  type Stmt,
  type Table,
  type VerdictValue,
} from './ast.js';
import { checkChainReferences, checkSetReferences } from './references.js';
import { tryFastElements } from './fast-elements.js';

const FAMILIES = new Set<Family>(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const HOOKS = new Set<Hook>(['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress']);
const CHAIN_TYPES = new Set<ChainType>(['filter', 'nat', 'route']);
const NAMED_PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
const OPS: Record<string, MatchOp> = { '==': 'eq', eq: 'eq', '!=': 'ne', ne: 'ne', '<': 'lt', lt: 'lt', '>': 'gt', gt: 'gt', '<=': 'le', le: 'le', '>=': 'ge', ge: 'ge' };
const BINOPS: Record<string, 'and' | 'or' | 'xor'> = { and: 'and', '&': 'and', or: 'or', '|': 'or', xor: 'xor', '^': 'xor' };
const VERDICTS = new Set(['accept', 'drop', 'reject', 'return', 'continue', 'jump', 'goto']);
const NOT_MODELLED = new Set(['limit', 'queue', 'redirect', 'snat', 'tproxy', 'notrack', 'meter', 'quota', 'synproxy', 'dup', 'fwd', 'symhash', 'jhash', 'osf', 'exthdr', 'rt', 'socket']);
const EXPR_START = new Set(['ip', 'ip6', 'th', 'tcp', 'udp', 'sctp', 'meta', 'mark', 'iifname', 'oifname', 'ct', 'fib', 'numgen']);

export interface ParseOptions {
  /** Apply the text on top of this ruleset (a later transaction). */
  into?: Ruleset;
  /**
   * Parse rule bodies and element lists only when a trace first reaches their chain or set
   * (the structure — tables, chains, sets, hooks — is always read at once). Errors in them
   * then surface from the trace, still naming the line. Default: parse everything now.
   */
  lazy?: boolean;
}

/** Parses nft text into a new ruleset (or applies it on top of `into`). */
export function parseNft(src: string, opts: ParseOptions = {}): Ruleset {
  const rs: Ruleset = opts.into ?? { tables: new Map() };
  new Parser(src, rs).run();
  if (!opts.lazy) {
    for (const table of rs.tables.values()) {
      for (const chain of table.chains.values()) ensureRules(table, chain);
      for (const set of table.sets.values()) ensureElements(table, set);
    }
  }
  return rs;
}

/** Parses the chain's pending rules (once) and checks what they refer to. */
export function ensureRules(table: Table, chain: Chain): void {
  if (chain.pending.length === 0) return;
  const pending = chain.pending;
  chain.pending = [];
  const fresh: Rule[] = [];
  for (const p of pending) {
    const r = new Parser(p.src, { tables: new Map() }, p.span).wholeRule(table);
    if (p.front) chain.rules.unshift(r);
    else chain.rules.push(r);
    fresh.push(r);
  }
  checkChainReferences(table, fresh);
}

/** Applies the set's pending element lists (once) and checks the chains its verdicts name. */
export function ensureElements(table: Table, set: NftSet): void {
  if (set.pending.length === 0) return;
  if (!tryFastElements(set, (name) => table.chains.has(name))) {
    if (set.raw) {
      // Elements indexed by the fast path before: parse them too, then the new lists.
      const raw = set.raw;
      set.raw = undefined;
      const text = [...raw].map(([k, v]) => (v === null ? k : `${k} : ${v}`)).join(', ');
      set.pending.unshift({ src: text, span: { start: 0, end: text.length, line: set.line }, verb: 'add' });
    }
    const pending = set.pending;
    set.pending = [];
    for (const p of pending) new Parser(p.src, { tables: new Map() }, p.span).elementList(table, set, p.verb, T.EOF);
  }
  checkSetReferences(table, set);
}

const SIMPLE = /add (rule|chain) (ip6?|inet) (\S+) (\S+)(?=[ \t\r]|$)/my;
const FED = /(?:^|\s)(?:update|add)\s+@([^\s{]+)/g;

class Parser {
  private readonly lx: Lexer;

  constructor(
    private readonly src: string,
    private readonly rs: Ruleset,
    span?: Span,
  ) {
    this.lx = new Lexer(src, span?.start ?? 0, span?.end ?? src.length, span?.line ?? 1);
  }

  /** A rule that is the whole of this parser's text. */
  wholeRule(table: Table): Rule {
    const r = this.rule(table, this.tok);
    if (this.kind() !== T.EOF) this.fail(`unexpected ${describe(this.tok)}`);
    return r;
  }

  /** Records a rule for later parsing; notes the sets it fills from packets. */
  private deferRule(table: Table, chain: Chain, front: boolean, first: Token): void {
    const span = this.lx.skipStatement();
    if (span.end === span.start || /^\s*$/.test(this.src.slice(span.start, span.end))) this.fail('empty rule', first);
    const at = this.src.indexOf('@', span.start);
    if (at >= 0 && at < span.end) {
      for (const m of this.src.slice(span.start, span.end).matchAll(FED)) table.fed.add(m[1]);
    }
    chain.pending.push({ src: this.src, span, front });
  }

  // ---- token helpers ---------------------------------------------------------------------

  private get tok(): Token {
    return this.lx.peek();
  }

  private kind(): T {
    return this.lx.peek().k;
  }

  private fail(reason: string, t: Token = this.tok): never {
    throw new NftSyntaxError(t.line, reason);
  }

  private isWord(v?: string): boolean {
    const t = this.tok;
    return t.k === T.Word && (v === undefined || t.v === v);
  }

  private word(what: string): string {
    const t = this.tok;
    if (t.k !== T.Word) this.fail(`expected ${what}, found ${describe(t)}`);
    this.lx.next();
    return t.v;
  }

  private expectWord(v: string): void {
    if (!this.isWord(v)) this.fail(`expected "${v}", found ${describe(this.tok)}`);
    this.lx.next();
  }

  private expect(k: T, what: string): Token {
    const t = this.tok;
    if (t.k !== k) this.fail(`expected ${what}, found ${describe(t)}`);
    this.lx.next();
    return t;
  }

  private string(what: string): string {
    const t = this.tok;
    if (t.k === T.Str || t.k === T.Word) {
      this.lx.next();
      return t.v;
    }
    return this.fail(`expected ${what}, found ${describe(t)}`);
  }

  private skipNL(): void {
    while (this.kind() === T.NL) this.lx.next();
  }

  private atEnd(): boolean {
    const k = this.kind();
    return k === T.NL || k === T.Semi || k === T.RBrace || k === T.EOF;
  }

  private endStatement(): void {
    const k = this.kind();
    if (k === T.NL || k === T.Semi) this.lx.next();
    else if (k !== T.RBrace && k !== T.EOF) this.fail(`unexpected ${describe(this.tok)}`);
  }

  // ---- commands --------------------------------------------------------------------------

  run(): void {
    for (;;) {
      while (this.kind() === T.NL || this.kind() === T.Semi) this.lx.next();
      if (this.kind() === T.EOF) return;
      if (!this.simpleLine()) this.command();
    }
  }

  /**
   * The lines that make up most of a large ruleset, `add rule F T C …` and `add chain F T C`,
   * handled without tokenizing them when the line is the whole statement (no ';', comment,
   * continuation or unbalanced brace). Anything else goes through command().
   */
  private simpleLine(): boolean {
    const src = this.src;
    const at = this.lx.offset();
    if (src.charCodeAt(at) !== 97 /* a */) return false;
    SIMPLE.lastIndex = at;
    const m = SIMPLE.exec(src);
    if (!m) return false;
    let eol = src.indexOf('\n', at);
    if (eol < 0) eol = src.length;
    const bodyStart = at + m[0].length;
    const body = src.substring(bodyStart, eol);
    if (body.indexOf(';') >= 0 || body.indexOf('#') >= 0 || body.indexOf('\\') >= 0) return false;
    const table = this.rs.tables.get(`${m[2]} ${m[3]}`);
    if (!table) return false;
    const line = this.tok.line;
    if (m[1] === 'chain') {
      if (body.trim() !== '') return false;
      this.ensureChain(table, m[4], this.tok);
    } else {
      const chain = table.chains.get(m[4]);
      if (!chain || body.trim() === '') return false;
      if (body.indexOf('{') >= 0 && body.split('{').length !== body.split('}').length) return false;
      if (/^\s*(?:position|handle|index)\b/.test(body)) return false;
      if (body.indexOf('@') >= 0) for (const f of body.matchAll(FED)) table.fed.add(f[1]);
      chain.pending.push({ src, span: { start: bodyStart, end: eol, line }, front: false });
    }
    this.lx.jump(eol, 0);
    return true;
  }

  private command(): void {
    const first = this.tok;
    let verb = this.word('a command');
    let object: string;
    if (['add', 'create', 'insert', 'delete', 'destroy', 'flush'].includes(verb)) {
      object = this.word('an object (table, chain, rule, set, map, element)');
    } else if (['table', 'chain', 'rule', 'set', 'map', 'element'].includes(verb)) {
      object = verb;
      verb = 'add';
    } else if (['list', 'reset', 'rename', 'replace', 'monitor', 'describe', 'export', 'import', 'define', 'include'].includes(verb)) {
      return this.fail(`"${verb}" is not supported by the tracer`, first);
    } else {
      return this.fail(`unknown command "${verb}"`, first);
    }
    if (object === 'ruleset') {
      if (verb !== 'flush') this.fail(`"${verb} ruleset" is not supported`, first);
      this.rs.tables.clear();
      return this.endStatement();
    }
    const family = this.family();
    const tableName = this.word('a table name');
    const tkey = `${family} ${tableName}`;
    if (object === 'table') return this.tableCommand(verb, family, tableName, first);
    const table = this.rs.tables.get(tkey);
    if (!table) {
      if (verb === 'destroy') return this.skipStatement();
      return this.fail(`table ${tkey} does not exist`, first);
    }
    switch (object) {
      case 'chain':
        return this.chainCommand(verb, table, first);
      case 'rule':
        return this.ruleCommand(verb, table, first);
      case 'set':
      case 'map':
        return this.setCommand(verb, object === 'map', table, first);
      case 'element':
        return this.elementCommand(verb, table, first);
      default:
        return this.fail(`unknown object "${object}"`, first);
    }
  }

  private skipStatement(): void {
    let depth = 0;
    for (;;) {
      const k = this.kind();
      if (k === T.EOF) return;
      if (k === T.LBrace) depth++;
      if (k === T.RBrace) depth--;
      if (depth === 0 && (k === T.NL || k === T.Semi)) return void this.lx.next();
      this.lx.next();
    }
  }

  private family(): Family {
    if (this.kind() === T.Word && FAMILIES.has(this.tok.v as Family)) return this.word('family') as Family;
    return 'ip';
  }

  private tableCommand(verb: string, family: Family, name: string, first: Token): void {
    const key = `${family} ${name}`;
    const existing = this.rs.tables.get(key);
    if (verb === 'delete' || verb === 'destroy') {
      if (!existing && verb === 'delete') this.fail(`table ${key} does not exist`, first);
      this.rs.tables.delete(key);
      return this.endStatement();
    }
    if (verb === 'flush') {
      if (!existing) this.fail(`table ${key} does not exist`, first);
      for (const c of existing!.chains.values()) {
        c.rules = [];
        c.pending = [];
      }
      for (const s of existing!.sets.values()) clearSet(s);
      return this.endStatement();
    }
    if (verb === 'create' && existing) this.fail(`table ${key} already exists`, first);
    if (verb !== 'add' && verb !== 'create') this.fail(`"${verb} table" is not supported`, first);
    const table: Table = existing ?? { family, name, comment: '', chains: new Map(), sets: new Map(), fed: new Set(), line: first.line };
    this.rs.tables.set(key, table);
    if (this.kind() === T.LBrace) this.tableBody(table);
    this.endStatement();
  }

  private tableBody(table: Table): void {
    this.expect(T.LBrace, '"{"');
    for (;;) {
      while (this.kind() === T.NL || this.kind() === T.Semi) this.lx.next();
      if (this.kind() === T.RBrace) return void this.lx.next();
      const t = this.tok;
      const w = this.word('chain, set, map, comment or flags');
      if (w === 'comment') {
        table.comment = this.string('a comment');
      } else if (w === 'flags') {
        this.word('table flags');
      } else if (w === 'chain') {
        const chain = this.ensureChain(table, this.word('a chain name'), t);
        if (this.kind() === T.LBrace) this.chainBody(table, chain);
      } else if (w === 'set' || w === 'map') {
        const set = this.ensureSet(table, this.word('a set name'), w === 'map', t);
        this.setBody(table, set);
      } else {
        this.fail(`unexpected "${w}" in table ${table.family} ${table.name}`, t);
      }
      this.endStatement();
    }
  }

  private ensureChain(table: Table, name: string, at: Token): Chain {
    checkName(name, at);
    let chain = table.chains.get(name);
    if (!chain) table.chains.set(name, (chain = { name, base: null, rules: [], pending: [], comment: '', line: at.line }));
    return chain;
  }

  private chainCommand(verb: string, table: Table, first: Token): void {
    const name = this.word('a chain name');
    const chain = table.chains.get(name);
    switch (verb) {
      case 'add':
      case 'create': {
        if (verb === 'create' && chain) this.fail(`chain ${name} already exists`, first);
        const c = this.ensureChain(table, name, first);
        if (this.kind() === T.LBrace) this.chainBody(table, c);
        return this.endStatement();
      }
      case 'flush':
        if (!chain) this.fail(`chain ${name} does not exist in table ${table.family} ${table.name}`, first);
        chain!.rules = [];
        chain!.pending = [];
        return this.endStatement();
      case 'delete':
      case 'destroy':
        if (!chain && verb === 'delete') this.fail(`chain ${name} does not exist in table ${table.family} ${table.name}`, first);
        if (chain && (chain.rules.length > 0 || chain.pending.length > 0)) this.fail(`chain ${name} is not empty: flush it before deleting it`, first);
        table.chains.delete(name);
        return this.endStatement();
      default:
        this.fail(`"${verb} chain" is not supported`, first);
    }
  }

  private chainBody(table: Table, chain: Chain): void {
    this.expect(T.LBrace, '"{"');
    for (;;) {
      while (this.kind() === T.NL || this.kind() === T.Semi) this.lx.next();
      if (this.kind() === T.RBrace) return void this.lx.next();
      const t = this.tok;
      if (this.isWord('type') && this.lx.peek(2).v === 'hook') {
        chain.base = this.baseSpec(chain.base);
      } else if (this.isWord('policy')) {
        this.lx.next();
        const p = this.word('a policy');
        if (p !== 'accept' && p !== 'drop') this.fail(`unknown chain policy "${p}"`, t);
        if (!chain.base) this.fail('only base chains have a policy', t);
        chain.base!.policy = p as 'accept' | 'drop';
      } else if (this.isWord('comment') && [T.NL, T.Semi, T.RBrace].includes(this.lx.peek(2).k)) {
        this.lx.next();
        chain.comment = this.string('a comment');
      } else if (this.isWord('device') || this.isWord('devices')) {
        this.fail('chains bound to a device (netdev) are not supported by the tracer', t);
      } else {
        this.deferRule(table, chain, false, t);
      }
      this.endStatement();
    }
  }

  private baseSpec(prev: BaseChainSpec | null): BaseChainSpec {
    const at = this.tok;
    this.expectWord('type');
    const type = this.word('a chain type');
    if (!CHAIN_TYPES.has(type as ChainType)) this.fail(`unknown chain type "${type}"`, at);
    this.expectWord('hook');
    const hook = this.word('a hook');
    if (!HOOKS.has(hook as Hook)) this.fail(`unknown hook "${hook}"`, at);
    if (this.isWord('device')) this.fail('chains bound to a device are not supported by the tracer', at);
    this.expectWord('priority');
    const parts: string[] = [];
    while (this.kind() === T.Word && !['policy', 'comment', 'device'].includes(this.tok.v)) parts.push(this.word('a priority'));
    const priorityText = parts.join(' ');
    const m = /^([a-z]+|-?\d+)\s*(?:([+-])\s*(\d+))?$/.exec(priorityText);
    if (!m) this.fail(`bad priority "${priorityText}"`, at);
    let priority = /^-?\d+$/.test(m![1]) ? parseInt(m![1], 10) : NAMED_PRIORITIES[m![1]];
    if (priority === undefined) this.fail(`unknown priority name "${m![1]}"`, at);
    if (m![2]) priority += (m![2] === '-' ? -1 : 1) * parseInt(m![3], 10);
    return { type: type as ChainType, hook: hook as Hook, priority, priorityText, policy: prev?.policy ?? 'accept' };
  }

  private ruleCommand(verb: string, table: Table, first: Token): void {
    const name = this.word('a chain name');
    const chain = table.chains.get(name);
    if (!chain) this.fail(`chain ${name} does not exist in table ${table.family} ${table.name}`, first);
    if (verb !== 'add' && verb !== 'insert') this.fail(`"${verb} rule" is not supported by the tracer (rule handles are not modelled)`, first);
    if (this.isWord('position') || this.isWord('handle') || this.isWord('index')) this.fail('rule positions and handles are not supported by the tracer', first);
    this.deferRule(table, chain!, verb === 'insert', first);
    this.endStatement();
  }

  // ---- sets and maps ---------------------------------------------------------------------

  private ensureSet(table: Table, name: string, isMap: boolean, at: Token): NftSet {
    checkName(name, at);
    let set = table.sets.get(name);
    if (set && set.isMap !== isMap) this.fail(`${name} is a ${set.isMap ? 'map' : 'set'}, not a ${isMap ? 'map' : 'set'}`, at);
    if (!set) {
      set = { name, isMap, keyTypes: [], valueTypes: null, flags: new Set(), timeout: '', comment: '', line: at.line, exact: new Map(), ranges: [], pending: [] };
      table.sets.set(name, set);
    }
    return set;
  }

  private setCommand(verb: string, isMap: boolean, table: Table, first: Token): void {
    const name = this.word('a set name');
    const existing = table.sets.get(name);
    switch (verb) {
      case 'add':
      case 'create': {
        if (verb === 'create' && existing) this.fail(`${isMap ? 'map' : 'set'} ${name} already exists`, first);
        const set = this.ensureSet(table, name, isMap, first);
        this.setBody(table, set);
        return this.endStatement();
      }
      case 'flush':
        if (!existing) this.fail(`${isMap ? 'map' : 'set'} ${name} does not exist`, first);
        clearSet(existing!);
        return this.endStatement();
      case 'delete':
      case 'destroy':
        if (!existing && verb === 'delete') this.fail(`${isMap ? 'map' : 'set'} ${name} does not exist`, first);
        table.sets.delete(name);
        return this.endStatement();
      default:
        this.fail(`"${verb} ${isMap ? 'map' : 'set'}" is not supported`, first);
    }
  }

  private setBody(table: Table, set: NftSet): void {
    const open = this.expect(T.LBrace, '"{"');
    for (;;) {
      while (this.kind() === T.NL || this.kind() === T.Semi) this.lx.next();
      if (this.kind() === T.RBrace) break;
      const t = this.tok;
      const w = this.word('a set property');
      switch (w) {
        case 'type':
        case 'typeof': {
          const keys: Datatype[] = [];
          const values: Datatype[] = [];
          let target = keys;
          let verdict = false;
          for (;;) {
            if (w === 'type') {
              const tn = this.word('a type');
              if (tn === 'verdict' && target === values) verdict = true;
              else {
                const dt = NAMED_TYPES[tn];
                if (!dt) this.fail(`unknown or unsupported type "${tn}"`, t);
                target.push(dt);
              }
            } else if (target === values && this.isWord('verdict')) {
              this.lx.next();
              verdict = true;
            } else {
              target.push(...typesOf(this.primary(table, true)));
            }
            if (this.isWord('.')) this.lx.next();
            else if (this.isWord(':') && target === keys && set.isMap) {
              this.lx.next();
              target = values;
            } else break;
          }
          if (set.isMap && values.length === 0 && !verdict) this.fail(`map ${set.name} needs a value type ("type … : verdict")`, t);
          if (!set.isMap && (values.length > 0 || verdict)) this.fail(`set ${set.name} cannot have a value type: declare it as a map`, t);
          if (set.keyTypes.length > 0 && set.keyTypes.map((d) => d.name).join('.') !== keys.map((d) => d.name).join('.')) {
            this.fail(`${set.name} already exists with type ${set.keyTypes.map((d) => d.name).join(' . ')}`, t);
          }
          set.keyTypes = keys;
          set.valueTypes = set.isMap ? (verdict ? 'verdict' : values) : null;
          break;
        }
        case 'flags':
          do {
            if (this.kind() === T.Comma) this.lx.next();
            const f = this.word('a flag');
            if (!['constant', 'interval', 'timeout', 'dynamic'].includes(f)) this.fail(`unknown set flag "${f}"`, t);
            set.flags.add(f);
          } while (this.kind() === T.Comma);
          break;
        case 'timeout':
          set.timeout = this.word('a timeout');
          break;
        case 'gc-interval':
        case 'size':
        case 'policy':
          this.word(w);
          break;
        case 'counter':
        case 'auto-merge':
          break;
        case 'comment':
          set.comment = this.string('a comment');
          break;
        case 'elements':
          this.expectWord('=');
          if (set.keyTypes.length === 0) this.fail(`elements of ${set.name} before its type`, t);
          set.pending.push({ src: this.src, span: this.lx.skipBlock(), verb: 'add' });
          break;
        default:
          this.fail(`unknown set property "${w}"`, t);
      }
      if (this.kind() === T.RBrace) break;
      this.endStatement();
    }
    this.lx.next();
    if (set.keyTypes.length === 0) this.fail(`${set.isMap ? 'map' : 'set'} ${set.name} has no type`, open);
  }

  private elementCommand(verb: string, table: Table, first: Token): void {
    const name = this.word('a set name');
    const set = table.sets.get(name);
    if (!set) this.fail(`set or map ${name} does not exist in table ${table.family} ${table.name}`, first);
    if (verb === 'add' || verb === 'create' || verb === 'delete' || verb === 'destroy') set!.pending.push({ src: this.src, span: this.lx.skipBlock(), verb });
    else this.fail(`"${verb} element" is not supported`, first);
    this.endStatement();
  }

  /** `{ key [: value], ... }` — added to, or deleted from, the set. */
  private elements(table: Table, set: NftSet, verb: string): void {
    this.expect(T.LBrace, '"{"');
    this.elementList(table, set, verb, T.RBrace);
    this.lx.next();
  }

  /** `key [: value], …` up to `closing`. */
  elementList(table: Table, set: NftSet, verb: string, closing: T): void {
    const removing = verb === 'delete' || verb === 'destroy';
    for (;;) {
      this.skipNL();
      if (this.kind() === closing) break;
      const el = this.element(table, set, !removing);
      const exact = el.key.every((iv) => iv.lo === iv.hi);
      const key = exact ? elementKey(el.key.map((iv) => iv.lo)) : '';
      const same = exact ? set.exact.get(key) : set.ranges.find((e) => sameKey(e, el));
      if (removing) {
        if (!same) {
          if (verb === 'delete') this.fail(`element ${this.keyText(set, el)} is not in ${set.name}`, this.lx.last);
        } else if (exact) set.exact.delete(key);
        else set.ranges.splice(set.ranges.indexOf(same), 1);
      } else {
        if (same) {
          if (verb === 'create') this.fail(`element ${this.keyText(set, el)} already exists in ${set.name}`);
          if (set.isMap && !sameValue(same.value, el.value)) {
            this.fail(`element ${this.keyText(set, el)} already exists in ${set.name} with a different value`);
          }
        } else if (exact) set.exact.set(key, el);
        else {
          if (!set.flags.has('interval') && set.keyTypes.length === 1) this.fail(`${set.name} needs "flags interval" for prefixes and ranges`);
          set.ranges.push(el);
        }
      }
      this.skipNL();
      if (this.kind() === T.Comma) this.lx.next();
      else if (this.kind() !== closing) this.fail(`expected "," or "}" in elements, found ${describe(this.tok)}`);
    }
  }

  private keyText(set: NftSet, el: Element): string {
    return el.key.map((iv, i) => (iv.lo === iv.hi ? set.keyTypes[i].format(iv.lo) : `${set.keyTypes[i].format(iv.lo)}-${set.keyTypes[i].format(iv.hi)}`)).join(' . ');
  }

  private element(table: Table, set: NftSet, wantValue: boolean): Element {
    const line = this.tok.line;
    const key = this.literalTuple(set.keyTypes, `an element of ${set.name}`);
    let comment = '';
    // Element options, in any order.
    for (;;) {
      if (this.isWord('timeout') || this.isWord('expires')) {
        this.lx.next();
        this.word('a time');
      } else if (this.isWord('comment')) {
        this.lx.next();
        comment = this.string('a comment');
      } else if (this.isWord('counter')) {
        this.lx.next();
        if (this.isWord('packets')) for (let i = 0; i < 4; i++) this.lx.next();
      } else break;
    }
    let value: Element['value'] = null;
    if (set.isMap && (wantValue || this.isWord(':'))) {
      this.expectWord(':');
      value = set.valueTypes === 'verdict' ? this.verdict(table) : this.literalTuple(set.valueTypes as Datatype[], `a value of ${set.name}`).map((iv) => iv.lo);
    }
    return { key, value, comment, line };
  }

  /** `a . b . c`, each component a literal of the corresponding type. */
  private literalTuple(types: readonly Datatype[], what: string): Interval[] {
    const out: Interval[] = [];
    for (let i = 0; i < types.length; i++) {
      if (i > 0) {
        if (!this.isWord('.')) this.fail(`${what}: expected ${types.length} components joined by " . ", found ${describe(this.tok)}`);
        this.lx.next();
      }
      const t = this.tok;
      if (t.k !== T.Word && t.k !== T.Str) this.fail(`${what}: expected a ${types[i].name}, found ${describe(t)}`);
      this.lx.next();
      const dt = types[i];
      const v = dt.parse(t.v);
      const iv = v !== null ? { lo: v, hi: v } : parseLiteral(dt, t.v);
      if (!iv) this.fail(`${what}: "${t.v}" is not a valid ${dt.name}`, t);
      out.push(iv!);
    }
    if (this.isWord('.')) this.fail(`${what}: more components than its type ${types.map((d) => d.name).join(' . ')}`);
    return out;
  }

  private verdict(_table: Table): VerdictValue {
    const t = this.tok;
    const v = this.word('a verdict');
    if (!VERDICTS.has(v)) this.fail(`"${v}" is not a verdict`, t);
    if (v === 'jump' || v === 'goto') {
      const chain = this.word('a chain name');
      return { k: v, chain };
    }
    return { k: v as VerdictValue['k'] };
  }

  // ---- rules -----------------------------------------------------------------------------

  private rule(table: Table, first: Token): Rule {
    const matches: Match[] = [];
    const stmts: Stmt[] = [];
    let comment = '';
    const start = this.tok.start;
    let end = start;
    if (this.atEnd()) this.fail('empty rule', first);
    while (!this.atEnd()) {
      const t = this.tok;
      if (t.k !== T.Word) this.fail(`unexpected ${describe(t)} in rule`, t);
      const w = t.v;
      if (w === 'comment') {
        this.lx.next();
        comment = this.string('a comment');
      } else if (VERDICTS.has(w)) {
        stmts.push({ k: 'verdict', v: this.verdict(table) });
        if (w === 'reject' && this.isWord('with')) {
          this.lx.next();
          while (this.kind() === T.Word && !['comment', 'counter'].includes(this.tok.v)) this.lx.next();
        }
      } else if (w === 'counter') {
        this.lx.next();
        if (this.isWord('packets')) for (let i = 0; i < 4; i++) this.lx.next();
        stmts.push({ k: 'nop' });
      } else if (w === 'log') {
        this.lx.next();
        while (this.isWord('prefix') || this.isWord('level') || this.isWord('flags') || this.isWord('group')) {
          this.lx.next();
          this.string('a log option');
        }
        stmts.push({ k: 'nop' });
      } else if (w === 'dnat') {
        stmts.push(this.dnat(table));
      } else if (w === 'masquerade') {
        this.lx.next();
        const flags: string[] = [];
        while (this.kind() === T.Word && ['random', 'fully-random', 'persistent'].includes(this.tok.v)) flags.push(this.word('a flag'));
        if (this.kind() === T.Comma) this.fail('masquerade flags are written without commas here', t);
        if (this.isWord('to')) this.fail('"masquerade to :port" is not supported by the tracer', t);
        stmts.push({ k: 'masquerade', text: ['masquerade', ...flags].join(' ') });
      } else if ((w === 'update' || w === 'add') && this.lx.peek(1).v.startsWith('@')) {
        this.lx.next();
        const name = this.word('@set').slice(1);
        this.expect(T.LBrace, '"{"');
        const key = this.expression(table);
        let timeout = '';
        if (this.isWord('timeout')) {
          this.lx.next();
          timeout = this.word('a timeout');
        }
        this.expect(T.RBrace, '"}"');
        stmts.push({ k: 'update', set: name, key, timeout });
      } else if (NOT_MODELLED.has(w)) {
        this.fail(`"${w}" is not modelled by the tracer`, t);
      } else {
        this.exprItem(table, matches, stmts);
      }
      end = this.lx.last.end;
    }
    if (stmts.length > 0 && matches.length > 0) {
      // nft evaluates left to right; a match after a statement would run after it. kproxy never writes that.
    }
    return { text: this.src.slice(start, end).replace(/\s+/g, ' '), line: first.line, matches, stmts, comment };
  }

  /** A rule item that starts with an expression: a match, `… vmap …`, or `… set …`. */
  private exprItem(table: Table, matches: Match[], stmts: Stmt[]): void {
    const t = this.tok;
    const expr = this.expression(table);
    if (this.isWord('vmap')) {
      this.lx.next();
      stmts.push({ k: 'vmap', key: expr, map: this.setRef(table, typesOf(expr), 'verdict') });
      return;
    }
    if (this.isWord('set')) {
      this.lx.next();
      if (expr.k === 'meta' && expr.key === 'mark') stmts.push({ k: 'setmark', target: 'meta', value: this.valueExpr(table, MARK) });
      else if (expr.k === 'ct' && expr.key === 'mark') stmts.push({ k: 'setmark', target: 'ct', value: this.valueExpr(table, MARK) });
      else this.fail('only "meta mark set" and "ct mark set" are modelled by the tracer', t);
      return;
    }
    if (stmts.length > 0) this.fail('a match after a statement is not supported by the tracer', t);
    let op: MatchOp = 'eq';
    let explicit = false;
    if (this.kind() === T.Word && OPS[this.tok.v]) {
      op = OPS[this.word('an operator')];
      explicit = true;
    }
    const types = typesOf(expr);
    if (types.length === 0) this.fail('this expression cannot be matched', t);
    if (this.kind() === T.LBrace || (this.kind() === T.Word && this.tok.v.startsWith('@'))) {
      if (op !== 'eq' && op !== 'ne') this.fail(`"${this.lx.last.v}" cannot compare with a set`, t);
      matches.push({ expr, op, rhs: { set: this.setRef(table, types, null) } });
      return;
    }
    if (this.atEnd()) this.fail('expected a value to match', this.tok);
    const values = this.literalTuple(types, 'the value to match');
    if (this.kind() === T.Comma && types.length === 1) {
      // "ct state established,related": a list of values means any of them.
      const anon = newAnonSet(types, null);
      addAnon(anon, values, null, t.line);
      while (this.kind() === T.Comma) {
        this.lx.next();
        addAnon(anon, this.literalTuple(types, 'the value to match'), null, t.line);
      }
      matches.push({ expr, op: op === 'ne' ? 'ne' : 'eq', rhs: { set: { anon } } });
      return;
    }
    if (!explicit && types.length === 1 && types[0].bitmask) op = 'bit';
    if ((op !== 'eq' && op !== 'ne') && values.some((iv) => iv.lo !== iv.hi)) this.fail('a prefix or range cannot be ordered', t);
    matches.push({ expr, op, rhs: { values } });
  }

  /** The right side of `set`: a constant, or an expression with bit operations (mark or 0x4000). */
  private valueExpr(table: Table, dt: Datatype): Expr {
    if (this.kind() === T.Word && EXPR_START.has(this.tok.v)) return this.expression(table);
    const t = this.tok;
    const v = dt.parse(this.word(`a ${dt.name}`));
    if (v === null) this.fail(`"${t.v}" is not a valid ${dt.name}`, t);
    return { k: 'const', values: [v!], dts: [dt] };
  }

  private setRef(table: Table, keyTypes: Datatype[], valueTypes: NftSet['valueTypes']): SetRef {
    const t = this.tok;
    if (t.k === T.Word && t.v.startsWith('@')) {
      this.lx.next();
      return { name: t.v.slice(1) };
    }
    if (t.k !== T.LBrace) this.fail(`expected "@set" or "{", found ${describe(t)}`);
    const anon = newAnonSet(keyTypes, valueTypes);
    this.elements(table, anon, 'add');
    return { anon };
  }

  private dnat(table: Table): Stmt {
    const t = this.tok;
    this.lx.next();
    let fam: 'ip' | 'ip6' | null = null;
    if (this.isWord('ip') || this.isWord('ip6')) fam = this.word('family') as 'ip' | 'ip6';
    this.expectWord('to');
    if (this.kind() === T.Word && EXPR_START.has(this.tok.v)) {
      const e = this.expression(table);
      if (e.k !== 'lookup') this.fail('"dnat to <expression>" must look the address up in a map', t);
      return { k: 'dnat', target: e };
    }
    const text = this.word('an address');
    let addr = text;
    let port: string | null = null;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
    if (bracket) [addr, port] = [bracket[1], bracket[2] ?? null];
    else if (!text.includes(':') || fam === 'ip' || /^[\d.]+:\d+$/.test(text)) {
      const c = text.lastIndexOf(':');
      if (c > 0) [addr, port] = [text.slice(0, c), text.slice(c + 1)];
    }
    const dt = addr.includes(':') ? IPV6 : IPV4;
    const a = dt.parse(addr);
    if (a === null) this.fail(`"${text}" is not an address to DNAT to`, t);
    const values: Value[] = [a!];
    const dts: Datatype[] = [dt];
    if (port !== null) {
      const p = INET_SERVICE.parse(port);
      if (p === null) this.fail(`"${port}" is not a port`, t);
      values.push(p!);
      dts.push(INET_SERVICE);
    }
    while (this.kind() === T.Word && ['random', 'fully-random', 'persistent'].includes(this.tok.v)) this.lx.next();
    return { k: 'dnat', target: { k: 'const', values, dts } };
  }

  // ---- expressions -----------------------------------------------------------------------

  /** primary [binop value]* [. primary …]* [map @m] */
  private expression(table: Table): Expr {
    const items: Expr[] = [this.withBinops(table)];
    while (this.isWord('.')) {
      this.lx.next();
      items.push(this.withBinops(table));
    }
    const e: Expr = items.length === 1 ? items[0] : { k: 'concat', items };
    if (this.isWord('map')) {
      const t = this.tok;
      this.lx.next();
      if (this.kind() === T.LBrace) this.fail('anonymous data maps are not supported by the tracer: use a named map', t);
      return { k: 'lookup', key: e, set: this.setRef(table, typesOf(e), []) };
    }
    return e;
  }

  private withBinops(table: Table): Expr {
    let e = this.primary(table, false);
    while (this.kind() === T.Word && BINOPS[this.tok.v]) {
      const t = this.tok;
      const op = BINOPS[this.word('an operator')];
      if (e.k === 'concat' || e.k === 'lookup' || e.k === 'const') this.fail(`cannot apply "${t.v}" here`, t);
      const dt = (e as { dt: Datatype }).dt;
      const v = dt.parse(this.word('a value'));
      if (typeof v !== 'number') this.fail(`"${this.lx.last.v}" is not a valid ${dt.name}`, t);
      e = { k: 'binop', op, left: e, right: v as number, dt };
    }
    return e;
  }

  private primary(_table: Table, inTypeof: boolean): Expr {
    const t = this.tok;
    const w = this.word('an expression');
    const field = () => this.word(`a field of "${w}"`);
    switch (w) {
      case 'ip': {
        const f = field();
        if (f === 'saddr' || f === 'daddr') return { k: 'payload', proto: 'ip', field: f, dt: IPV4 };
        if (f === 'protocol') return { k: 'payload', proto: 'ip', field: 'protocol', dt: INET_PROTO };
        return this.fail(`"ip ${f}" is not modelled by the tracer`, t);
      }
      case 'ip6': {
        const f = field();
        if (f === 'saddr' || f === 'daddr') return { k: 'payload', proto: 'ip6', field: f, dt: IPV6 };
        if (f === 'nexthdr') return { k: 'payload', proto: 'ip6', field: 'protocol', dt: INET_PROTO };
        return this.fail(`"ip6 ${f}" is not modelled by the tracer`, t);
      }
      case 'th':
      case 'tcp':
      case 'udp':
      case 'sctp': {
        const f = field();
        if (f !== 'sport' && f !== 'dport') return this.fail(`"${w} ${f}" is not modelled by the tracer`, t);
        return { k: 'payload', proto: w, field: f, dt: INET_SERVICE };
      }
      case 'meta':
      case 'mark':
      case 'iifname':
      case 'oifname': {
        const key = w === 'meta' ? field() : w;
        const dt = { l4proto: INET_PROTO, mark: MARK, nfproto: NF_PROTO, iifname: IFNAME, oifname: IFNAME }[key];
        if (!dt) return this.fail(`"meta ${key}" is not modelled by the tracer`, t);
        return { k: 'meta', key: key as 'l4proto', dt };
      }
      case 'ct': {
        const key = field();
        const dt = { state: CT_STATE, status: CT_STATUS, mark: MARK }[key];
        if (!dt) return this.fail(`"ct ${key}" is not modelled by the tracer`, t);
        return { k: 'ct', key: key as 'state', dt };
      }
      case 'fib': {
        const flags: string[] = [this.word('saddr or daddr')];
        while (this.isWord('.')) {
          this.lx.next();
          flags.push(this.word('a fib flag'));
        }
        const result = this.word('a fib result');
        if (flags.length !== 1 || (flags[0] !== 'saddr' && flags[0] !== 'daddr') || result !== 'type') {
          return this.fail(`"fib ${flags.join(' . ')} ${result}" is not modelled by the tracer (only "fib saddr|daddr type")`, t);
        }
        return { k: 'fib', addr: flags[0], dt: FIB_ADDRTYPE };
      }
      case 'numgen': {
        const mode = this.word('random or inc');
        if (mode !== 'random') return this.fail(`"numgen ${mode}" is not modelled by the tracer (only numgen random)`, t);
        this.expectWord('mod');
        const mod = INTEGER.parse(this.word('a modulus'));
        if (typeof mod !== 'number' || mod < 1) return this.fail('numgen needs a positive modulus', t);
        let offset = 0;
        if (this.isWord('offset')) {
          this.lx.next();
          const o = INTEGER.parse(this.word('an offset'));
          if (typeof o !== 'number') return this.fail('bad numgen offset', t);
          offset = o;
        }
        return { k: 'numgen', mod, offset, dt: INTEGER };
      }
      default:
        if (NOT_MODELLED.has(w)) return this.fail(`"${w}" is not modelled by the tracer`, t);
        return this.fail(inTypeof ? `unknown typeof expression "${w}"` : `unknown expression or statement "${w}"`, t);
    }
  }
}

function describe(t: Token): string {
  switch (t.k) {
    case T.EOF:
      return 'end of input';
    case T.NL:
      return 'end of line';
    case T.Str:
      return `"${t.v}"`;
    default:
      return `"${t.v}"`;
  }
}

function checkName(name: string, at: Token): void {
  if (name.length > 256 || /^[@$]/.test(name)) throw new NftSyntaxError(at.line, `bad name "${name}"`);
}

function clearSet(s: NftSet): void {
  s.raw = undefined;
  s.exact.clear();
  s.ranges = [];
  s.pending = [];
}

function newAnonSet(keyTypes: Datatype[], valueTypes: NftSet['valueTypes']): NftSet {
  return {
    name: '',
    isMap: valueTypes !== null,
    keyTypes,
    valueTypes,
    flags: new Set(['interval', 'constant', 'anonymous']),
    timeout: '',
    comment: '',
    line: 0,
    exact: new Map(),
    ranges: [],
    pending: [],
  };
}

function addAnon(set: NftSet, key: Interval[], value: Element['value'], line: number): void {
  const el: Element = { key, value, comment: '', line };
  if (key.every((iv) => iv.lo === iv.hi)) set.exact.set(elementKey(key.map((iv) => iv.lo)), el);
  else set.ranges.push(el);
}

function sameKey(a: Element, b: Element): boolean {
  return a.key.length === b.key.length && a.key.every((iv, i) => iv.lo === b.key[i].lo && iv.hi === b.key[i].hi);
}

function sameValue(a: Element['value'], b: Element['value']): boolean {
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => v === b[i]);
  return a.k === b.k && a.chain === b.chain;
}
