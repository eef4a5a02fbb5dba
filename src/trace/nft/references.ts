// Once the transaction is applied: every chain a rule or a verdict map jumps to, and every
// set a rule names, must exist with a fitting type (checked as rules and elements are parsed). nft refuses such text; so does the tracer, naming
// the line, instead of tracing a packet through a ruleset the kernel would never load.
import { NftSyntaxError } from './lexer.js';
import { typesOf, type Expr, type NftSet, type Rule, type SetRef, type Table, type VerdictValue } from './ast.js';

export function checkSetReferences(table: Table, set: NftSet): void {
  if (set.valueTypes !== 'verdict') return;
  for (const el of set.exact.values()) checkVerdict(table, el.value as VerdictValue, el.line);
  for (const el of set.ranges) checkVerdict(table, el.value as VerdictValue, el.line);
}

export function checkChainReferences(table: Table, rules: readonly Rule[]): void {
  for (const rule of rules) {
    const line = rule.line;
    const expr = (e: Expr) => checkExpr(table, e, line);
    for (const m of rule.matches) {
      expr(m.expr);
      if ('set' in m.rhs)
        checkSet(
          table,
          m.rhs.set,
          typesOf(m.expr).map((d) => d.name),
          line,
          'set',
        );
    }
    for (const s of rule.stmts) {
      if (s.k === 'verdict') checkVerdict(table, s.v, line);
      else if (s.k === 'vmap') {
        expr(s.key);
        const set = checkSet(
          table,
          s.map,
          typesOf(s.key).map((d) => d.name),
          line,
          'vmap',
        );
        if ('anon' in s.map) for (const el of [...set.exact.values(), ...set.ranges]) checkVerdict(table, el.value as VerdictValue, line);
      } else if (s.k === 'dnat') expr(s.target);
      else if (s.k === 'setmark') expr(s.value);
      else if (s.k === 'update') {
        expr(s.key);
        checkSet(
          table,
          { name: s.set },
          typesOf(s.key).map((d) => d.name),
          line,
          'set',
        );
      }
    }
  }
}

function checkExpr(table: Table, e: Expr, line: number): void {
  if (e.k === 'concat') e.items.forEach((i) => checkExpr(table, i, line));
  else if (e.k === 'binop') checkExpr(table, e.left, line);
  else if (e.k === 'lookup') {
    checkExpr(table, e.key, line);
    checkSet(
      table,
      e.set,
      typesOf(e.key).map((d) => d.name),
      line,
      'map',
    );
  }
}

function checkVerdict(table: Table, v: VerdictValue, line: number): void {
  if ((v.k === 'jump' || v.k === 'goto') && !table.chains.has(v.chain!)) {
    throw new NftSyntaxError(line, `${v.k} to chain ${v.chain}, which does not exist in table ${table.family} ${table.name}`);
  }
}

function checkSet(table: Table, ref: SetRef, keyTypes: string[], line: number, use: 'set' | 'vmap' | 'map'): NftSet {
  const set = 'anon' in ref ? ref.anon : table.sets.get(ref.name);
  const name = 'anon' in ref ? 'the anonymous set' : `@${ref.name}`;
  if (!set) throw new NftSyntaxError(line, `${name} does not exist in table ${table.family} ${table.name}`);
  const want = set.keyTypes.map((d) => d.name).join(' . ');
  if (want !== keyTypes.join(' . ')) throw new NftSyntaxError(line, `${name} is keyed by ${want}, but the rule looks up ${keyTypes.join(' . ')}`);
  if (use === 'vmap' && set.valueTypes !== 'verdict') throw new NftSyntaxError(line, `${name} is not a verdict map`);
  if (use === 'map' && (!set.isMap || set.valueTypes === 'verdict')) throw new NftSyntaxError(line, `${name} is not a data map`);
  return set;
}
