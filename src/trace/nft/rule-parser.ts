// Rules, expressions and element lists of nft text: typed against the datatypes of what
// they match, so that a literal of the wrong kind is an error naming its line.
import { CT_STATE, CT_STATUS, FIB_ADDRTYPE, IFNAME, INET_PROTO, INET_SERVICE, INTEGER, IPV4, IPV6, MARK, NF_PROTO, parseLiteral, type Datatype, type Interval, type Value } from './datatypes.js';
import { T, type Token } from './lexer.js';
import { TokenReader, describe } from './token-reader.js';
import { elementKey, typesOf, type Element, type Expr, type Match, type MatchOp, type NftSet, type Rule, type SetRef, type Stmt, type Table, type VerdictValue } from './ast.js';

const OPS: Record<string, MatchOp> = { '==': 'eq', eq: 'eq', '!=': 'ne', ne: 'ne', '<': 'lt', lt: 'lt', '>': 'gt', gt: 'gt', '<=': 'le', le: 'le', '>=': 'ge', ge: 'ge' };
const BINOPS: Record<string, 'and' | 'or' | 'xor'> = { and: 'and', '&': 'and', or: 'or', '|': 'or', xor: 'xor', '^': 'xor' };
const VERDICTS = new Set(['accept', 'drop', 'reject', 'return', 'continue', 'jump', 'goto']);
const NOT_MODELLED = new Set(['limit', 'queue', 'redirect', 'snat', 'tproxy', 'notrack', 'meter', 'quota', 'synproxy', 'dup', 'fwd', 'symhash', 'jhash', 'osf', 'exthdr', 'rt', 'socket']);
const EXPR_START = new Set(['ip', 'ip6', 'th', 'tcp', 'udp', 'sctp', 'meta', 'mark', 'iifname', 'oifname', 'ct', 'fib', 'numgen']);

export class RuleParser extends TokenReader {
  /** A rule that is the whole of this parser's text. */
  wholeRule(table: Table): Rule {
    const r = this.rule(table, this.tok);
    if (this.kind() !== T.EOF) this.fail(`unexpected ${describe(this.tok)}`);
    return r;
  }

  protected elements(table: Table, set: NftSet, verb: string): void {
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

  protected keyText(set: NftSet, el: Element): string {
    return el.key.map((iv, i) => (iv.lo === iv.hi ? set.keyTypes[i].format(iv.lo) : `${set.keyTypes[i].format(iv.lo)}-${set.keyTypes[i].format(iv.hi)}`)).join(' . ');
  }

  protected element(table: Table, set: NftSet, wantValue: boolean): Element {
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
  protected literalTuple(types: readonly Datatype[], what: string): Interval[] {
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

  protected verdict(_table: Table): VerdictValue {
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

  protected rule(table: Table, first: Token): Rule {
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
    return { text: this.src.slice(start, end).replace(/\s+/g, ' '), line: first.line, matches, stmts, comment };
  }

  /** A rule item that starts with an expression: a match, `… vmap …`, or `… set …`. */
  protected exprItem(table: Table, matches: Match[], stmts: Stmt[]): void {
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
    if (op !== 'eq' && op !== 'ne' && values.some((iv) => iv.lo !== iv.hi)) this.fail('a prefix or range cannot be ordered', t);
    matches.push({ expr, op, rhs: { values } });
  }

  /** The right side of `set`: a constant, or an expression with bit operations (mark or 0x4000). */
  protected valueExpr(table: Table, dt: Datatype): Expr {
    if (this.kind() === T.Word && EXPR_START.has(this.tok.v)) return this.expression(table);
    const t = this.tok;
    const v = dt.parse(this.word(`a ${dt.name}`));
    if (v === null) this.fail(`"${t.v}" is not a valid ${dt.name}`, t);
    return { k: 'const', values: [v!], dts: [dt] };
  }

  protected setRef(table: Table, keyTypes: Datatype[], valueTypes: NftSet['valueTypes']): SetRef {
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

  protected dnat(table: Table): Stmt {
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
  protected expression(table: Table): Expr {
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

  protected withBinops(table: Table): Expr {
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

  protected primary(_table: Table, inTypeof: boolean): Expr {
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
