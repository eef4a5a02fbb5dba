// nft text → Ruleset. Accepts both forms kproxy (and `nft list ruleset`) produce: transaction
// commands (`add table`, `add chain … { type … }`, `add rule`, `add element`, `delete element`,
// `flush chain`, …) and `table … { chain … { … } set … { … } }` blocks. Commands are applied in
// order, as `nft -f` applies one transaction. Anything malformed, unknown or not modelled by
// the tracer is an NftSyntaxError naming the line: the tracer never guesses.
import { NAMED_TYPES, type Datatype } from './datatypes.js';
import { NftSyntaxError, T, type Token } from './lexer.js';
import { RuleParser } from './rule-parser.js';
import { typesOf, type BaseChainSpec, type Chain, type ChainType, type Family, type Hook, type NftSet, type Rule, type Ruleset, type Table } from './ast.js';
import { checkChainReferences, checkSetReferences } from './references.js';
import { indexFastLists, tryFastElements } from './fast-elements.js';
import { newlinesIn, runEnd, runLinesOf, type LineRun, type RuleRuns } from './rule-runs.js';
import { ChainMap, chainRunEnd, type ChainRuns } from './chain-runs.js';

/** What a lazy parse steps over whole (rule-runs.ts, chain-runs.ts). */
interface Runs {
  rules: RuleRuns;
  chains: ChainRuns;
}

const FAMILIES = new Set<Family>(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const HOOKS = new Set<Hook>(['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress']);
const CHAIN_TYPES = new Set<ChainType>(['filter', 'nat', 'route']);
const NAMED_PRIORITIES: Record<string, number> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

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

/**
 * Parses nft text into a new ruleset (or applies it on top of `into`). The text may come in
 * pieces that end at line ends (read-text.ts readRulesetPieces): a lazy parse of a new ruleset
 * reads them one after the other, anything else parses them joined.
 */
export function parseNft(text: string | readonly string[], opts: ParseOptions = {}): Ruleset {
  if (typeof text !== 'string') {
    const whole = text.length === 1 ? text[0] : null;
    if (whole === null && opts.lazy && !opts.into) {
      const rs = parsePieces(text);
      if (rs) return rs;
    }
    return parseNft(whole ?? text.join(''), opts);
  }
  const src = text;
  if (opts.into) for (const table of opts.into.tables.values()) if (table.runs) for (const chain of table.chains.values()) ensureRules(table, chain);
  // A lazy parse of a new ruleset steps over runs of plain rule lines (rule-runs.ts); it starts
  // over without them if a later command could take rules away again.
  if (opts.lazy && !opts.into) {
    const rs: Ruleset = { tables: new Map() };
    const runs: Runs = { rules: { list: [], searched: new WeakSet() }, chains: { list: [] } };
    try {
      new Parser(src, rs, runs).run();
      if (runs.rules.list.length > 0) for (const table of rs.tables.values()) table.runs = runs.rules;
      return rs;
    } catch (e) {
      if (!(e instanceof StartOver)) throw e;
    }
  }
  const rs: Ruleset = opts.into ?? { tables: new Map() };
  new Parser(src, rs, null).run();
  if (!opts.lazy) {
    for (const table of rs.tables.values()) {
      for (const chain of table.chains.values()) ensureRules(table, chain);
      for (const set of table.sets.values()) {
        ensureElements(table, set);
        if (!indexFastLists(set)) parseElementsFully(table, set);
      }
    }
  }
  return rs;
}

/**
 * A lazy parse of text in pieces: each piece by its own parser, on one ruleset, counting lines
 * on. Null when the parse cannot be finished that way — a statement runs on into the next piece
 * (an open `{` is an error at the end of a piece), a syntax error, or a command that takes
 * rules away after a run: the caller then parses the joined text, which gives exactly what a
 * parse of the whole text gives, error and line included. Each piece ends at a line end, so a
 * parse that gets through every piece has read the same statements as one of the whole text.
 */
function parsePieces(pieces: readonly string[]): Ruleset | null {
  const rs: Ruleset = { tables: new Map() };
  const runs: Runs = { rules: { list: [], searched: new WeakSet() }, chains: { list: [] } };
  let line = 1;
  try {
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      // A piece that does not end a line, or ends one that a backslash continues, would split a statement.
      if (i < pieces.length - 1 && (!piece.endsWith('\n') || piece.endsWith('\\\n'))) return null;
      line = new Parser(piece, rs, runs, line).runToEnd();
    }
  } catch (e) {
    if (e instanceof NftSyntaxError || e instanceof StartOver) return null;
    throw e;
  }
  if (runs.rules.list.length > 0) for (const table of rs.tables.values()) table.runs = runs.rules;
  return rs;
}

/** Parses the chain's pending rules (once) and checks what they refer to. */
export function ensureRules(table: Table, chain: Chain): void {
  if (table.runs) {
    const found = runLinesOf(table.runs, table, chain);
    // In text order with the rules the parser kept (from the same text, or from its pieces:
    // by line first, then by offset within the line's piece).
    if (found.length > 0) chain.pending = [...chain.pending, ...found].sort((a, b) => a.line - b.line || a.start - b.start);
  }
  if (chain.pending.length === 0) return;
  const pending = chain.pending;
  chain.pending = [];
  const fresh: Rule[] = [];
  for (const p of pending) {
    const r = new RuleParser(p.src, p).wholeRule(table);
    if (p.front) chain.rules.unshift(r);
    else chain.rules.push(r);
    fresh.push(r);
  }
  checkChainReferences(table, fresh);
}

/** Applies the set's pending element lists (once) and checks the chains its verdicts name. */
export function ensureElements(table: Table, set: NftSet): void {
  if (set.pending.length === 0) return;
  // The fast path checks the chains its verdicts name itself, unless asking for each chain would
  // read the lazy parse's chain runs: the lookup then checks the verdict it finds.
  const chainExists = table.chains instanceof ChainMap ? null : (name: string) => table.chains.has(name);
  if (!tryFastElements(set, chainExists)) parseElementsFully(table, set);
}

/**
 * Parses every element list of the set with the full parser, which names the line of any
 * error: when a list is not in the fast path's canonical form, or a lookup found its lists
 * disagreeing about a key.
 */
export function parseElementsFully(table: Table, set: NftSet): void {
  const lists = [...(set.fast ?? []), ...set.pending];
  if (set.raw) {
    // Elements indexed by the fast path before: parse them too, first.
    const text = [...set.raw].map(([k, v]) => (v === null ? k : `${k} : ${v}`)).join(', ');
    lists.unshift({ src: text, span: { start: 0, end: text.length, line: set.line }, verb: 'add' });
  }
  set.raw = undefined;
  set.fast = undefined;
  set.pending = [];
  for (const p of lists) new RuleParser(p.src, p.span).elementList(table, set, p.verb, T.EOF);
  checkSetReferences(table, set);
}

const FED = /(?:^|\s)(?:update|add)\s+@([^\s{]+)/g;

/** Thrown by a parse with rule runs when a command could take rules away: parse again without runs. */
class StartOver extends Error {}

class Parser extends RuleParser {
  constructor(
    src: string,
    private readonly rs: Ruleset,
    /** Where plain rule and chain lines are collected whole (a lazy parse), or null to parse each. */
    private readonly runs: Runs | null,
    /** The line `src` starts on (a piece of a longer text starts further on). */
    line = 1,
  ) {
    super(src, { start: 0, end: src.length, line });
  }

  /** run(), then the line after the last one read: where the next piece starts. */
  runToEnd(): number {
    this.run();
    return this.lx.currentLine();
  }

  private lastTable: Table | null = null;
  private lastTablePrefix = '';

  /** Records a rule for later parsing; notes the sets it fills from packets. */
  private deferRule(table: Table, chain: Chain, front: boolean, first: Token): void {
    const span = this.lx.skipStatement();
    if (span.end === span.start || /^\s*$/.test(this.src.slice(span.start, span.end))) this.fail('empty rule', first);
    const text = this.src.substring(span.start, span.end);
    if (text.indexOf('@') >= 0) for (const m of text.matchAll(FED)) table.fed.add(m[1]);
    chain.pending.push({ src: this.src, start: span.start, end: span.end, line: span.line, front });
  }

  // ---- commands --------------------------------------------------------------------------

  run(): void {
    const n = this.src.length;
    for (;;) {
      const at = this.lx.skipBlank();
      if (at >= n) return;
      if (this.runs && (this.ruleRun(at) || this.chainRun(at))) continue;
      if (!this.simpleLine(at)) this.command();
    }
  }

  /**
   * The lines that make up most of a large ruleset, `add rule F T C …` and `add chain F T C`,
   * handled without tokenizing them when the line is the whole statement (no ';', comment,
   * string, continuation or brace). Anything else goes through command().
   */
  private simpleLine(at: number): boolean {
    const src = this.src;
    let p: number;
    let isRule: boolean;
    if (src.startsWith('add rule ', at)) [p, isRule] = [at + 9, true];
    else if (src.startsWith('add chain ', at)) [p, isRule] = [at + 10, false];
    else return false;
    // "<family> <table> " — the same table as the previous line, most of the time.
    let table = this.lastTable;
    if (!table || !src.startsWith(this.lastTablePrefix, p)) {
      const f = src.indexOf(' ', p);
      const t = f < 0 ? -1 : src.indexOf(' ', f + 1);
      if (t < 0) return false;
      table = this.rs.tables.get(`${src.substring(p, f)} ${src.substring(f + 1, t)}`) ?? null;
      if (!table) return false;
      this.lastTable = table;
      this.lastTablePrefix = src.substring(p, t + 1);
    }
    p += this.lastTablePrefix.length;
    let eol = src.indexOf('\n', p);
    if (eol < 0) eol = src.length;
    // The chain name, then the body: both must be plain.
    let nameEnd = p;
    while (nameEnd < eol && src.charCodeAt(nameEnd) > 32) nameEnd++;
    let fed = false;
    for (let i = nameEnd; i < eol; i++) {
      const c = src.charCodeAt(i);
      if (c === 59 || c === 35 || c === 92 || c === 34 || c === 123 || c === 125) return false; // ; # \ " { }
      if (c === 64) fed = true; // @
    }
    const name = src.substring(p, nameEnd);
    if (name === '') return false;
    const line = this.lx.currentLine();
    if (!isRule) {
      if (src.substring(nameEnd, eol).trim() !== '') return false;
      this.ensureChain(table, name, { k: T.Word, v: name, line, start: p, end: nameEnd });
    } else {
      const chain = table.chains.get(name);
      if (!chain) return false;
      const body = src.substring(nameEnd, eol);
      if (body.trim() === '' || /^\s*(?:position|handle|index)\b/.test(body)) return false;
      if (fed) for (const m of body.matchAll(FED)) table.fed.add(m[1]);
      chain.pending.push({ src, start: nameEnd, end: eol, line, front: false });
    }
    this.lx.jump(eol, 0);
    return true;
  }

  /**
   * A run of plain `add rule` lines (rule-runs.ts) starting at `at`: kept whole, for the chains
   * a trace reaches to search. (A rule that fills a set from packets, `update @set { … }`, has
   * braces, so it is never in a run: the sets such rules fill are still noted at once.)
   */
  private ruleRun(at: number): boolean {
    return this.stepOverRun(at, 'add rule ', runEnd, this.runs!.rules.list);
  }

  /** A run of plain `add chain` lines (chain-runs.ts) starting at `at`: kept whole, searched when a chain is asked for. */
  private chainRun(at: number): boolean {
    return this.stepOverRun(at, 'add chain ', chainRunEnd, this.runs!.chains.list);
  }

  /** A run of lines that begin with `prefix`, ending where `endOf` says (-1: none here): stepped over and kept in `list`. */
  private stepOverRun(at: number, prefix: string, endOf: (src: string, at: number) => number, list: LineRun[]): boolean {
    const src = this.src;
    if (!src.startsWith(prefix, at)) return false;
    const end = endOf(src, at);
    if (end < 0) return false;
    const newlines = newlinesIn(src, at, end);
    list.push({ src, start: at, end, line: this.lx.currentLine(), newlines });
    this.lx.jump(end, newlines.length);
    return true;
  }

  private command(): void {
    this.lastTable = null; // tables may be deleted and created again below
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
    // Rules in runs are applied when a trace reaches their chain: nothing may take rules away after them.
    // (A deleted table takes its runs along: a table made again later sees only the runs after it.)
    const takesRules = (verb === 'flush' || verb === 'delete' || verb === 'destroy') && !['element', 'set', 'map', 'ruleset'].includes(object) && !(object === 'table' && verb !== 'flush');
    if (takesRules && this.runs && (this.runs.rules.list.length > 0 || this.runs.chains.list.length > 0)) throw new StartOver();
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
    const chains = this.runs ? new ChainMap(this.runs.chains, `add chain ${family} ${name} `) : new Map<string, Chain>();
    const table: Table = existing ?? { family, name, comment: '', chains, sets: new Map(), fed: new Set(), line: first.line };
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
}

function checkName(name: string, at: Token): void {
  if (name.length > 256 || /^[@$]/.test(name)) throw new NftSyntaxError(at.line, `bad name "${name}"`);
}
function clearSet(s: NftSet): void {
  s.raw = undefined;
  s.fast = undefined;
  s.exact.clear();
  s.ranges = [];
  s.pending = [];
}
