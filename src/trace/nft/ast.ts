// The ruleset an nft text describes, after every command of the transaction was applied:
// tables, chains with their rules, and sets/maps with their elements. Rules are parsed into
// typed expressions and statements that the evaluator runs; `text` keeps them as written.
import type { Datatype, Interval, Value } from './datatypes.js';
import type { Span } from './lexer.js';

export type Family = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';
export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting' | 'ingress' | 'egress';
export type ChainType = 'filter' | 'nat' | 'route';

export type Expr =
  | { k: 'payload'; proto: 'ip' | 'ip6' | 'th' | 'tcp' | 'udp' | 'sctp'; field: 'saddr' | 'daddr' | 'sport' | 'dport' | 'protocol'; dt: Datatype }
  | { k: 'meta'; key: 'l4proto' | 'mark' | 'nfproto' | 'iifname' | 'oifname'; dt: Datatype }
  | { k: 'ct'; key: 'state' | 'status' | 'mark'; dt: Datatype }
  | { k: 'fib'; addr: 'saddr' | 'daddr'; dt: Datatype }
  | { k: 'numgen'; mod: number; offset: number; dt: Datatype }
  | { k: 'binop'; op: 'and' | 'or' | 'xor'; left: Expr; right: number; dt: Datatype }
  | { k: 'concat'; items: Expr[] }
  | { k: 'const'; values: Value[]; dts: Datatype[] }
  | { k: 'lookup'; key: Expr; set: SetRef };

/** A named set (`@name`, resolved in the rule's table when evaluated) or an anonymous one. */
export type SetRef = { name: string } | { anon: NftSet };

export type VerdictKind = 'accept' | 'drop' | 'reject' | 'return' | 'continue' | 'jump' | 'goto';
export interface VerdictValue {
  k: VerdictKind;
  chain?: string;
}

export type MatchOp = 'eq' | 'ne' | 'lt' | 'gt' | 'le' | 'ge' | 'bit';

export interface Match {
  expr: Expr;
  op: MatchOp;
  /** A literal (one interval per component of a concatenation) or a set lookup. */
  rhs: { values: Interval[] } | { set: SetRef };
}

export type Stmt =
  | { k: 'verdict'; v: VerdictValue }
  | { k: 'vmap'; key: Expr; map: SetRef }
  | { k: 'dnat'; target: Expr }
  | { k: 'masquerade'; text: string }
  | { k: 'setmark'; target: 'meta' | 'ct'; value: Expr }
  | { k: 'update'; set: string; key: Expr; timeout: string }
  | { k: 'nop' };

export interface Rule {
  /** The rule as written (without its command prefix). */
  text: string;
  line: number;
  matches: Match[];
  stmts: Stmt[];
  comment: string;
}

export interface Element {
  key: Interval[];
  value: VerdictValue | Value[] | null;
  comment: string;
  line: number;
}

export interface NftSet {
  name: string;
  isMap: boolean;
  keyTypes: Datatype[];
  /** 'verdict' for verdict maps; data types for data maps; null for sets. */
  valueTypes: Datatype[] | 'verdict' | null;
  flags: Set<string>;
  timeout: string;
  comment: string;
  line: number;
  /** Elements whose key is one exact value per component, by elementKey(). */
  exact: Map<string, Element>;
  /** Elements with a prefix or range in some component (scanned in order). */
  ranges: Element[];
  /** Canonical key text → value text, for sets indexed by the fast path (fast-elements.ts). */
  raw?: Map<string, string | null>;
  /**
   * Element lists the fast path checked to be in canonical form, applied after `raw`, in
   * order: a lookup searches their text for the key instead of indexing every element.
   */
  fast?: { src: string; span: Span; verb: string }[];
  /** Element lists not parsed yet (applied in order when the set is first looked up). */
  pending: { src: string; span: Span; verb: string }[];
}

export interface BaseChainSpec {
  type: ChainType;
  hook: Hook;
  priority: number;
  /** As written ("dstnat", "-110"), for the story. */
  priorityText: string;
  policy: 'accept' | 'drop';
}

export interface Chain {
  name: string;
  base: BaseChainSpec | null;
  rules: Rule[];
  /** Rules not parsed yet (parsed in order when the chain is first run). */
  pending: { src: string; start: number; end: number; line: number; front: boolean }[];
  comment: string;
  line: number;
}

export interface Table {
  family: Family;
  name: string;
  comment: string;
  chains: Map<string, Chain>;
  sets: Map<string, NftSet>;
  /** Sets that rules fill from packets (`update @set`, `add @set`): session-affinity memory. */
  fed: Set<string>;
  line: number;
  /** Plain rule lines a lazy parse stepped over whole (rule-runs.ts), shared by the tables of one text. */
  runs?: RuleRuns;
}

export interface Ruleset {
  /** By "family name", in creation order. */
  tables: Map<string, Table>;
}

export function elementKey(values: readonly Value[]): string {
  return values.length === 1 ? String(values[0]) : values.join('|');
}

/** The datatypes an expression produces (one per concatenation component). */
export function typesOf(e: Expr): Datatype[] {
  switch (e.k) {
    case 'concat':
      return e.items.flatMap(typesOf);
    case 'const':
      return e.dts;
    case 'lookup': {
      if ('anon' in e.set) return Array.isArray(e.set.anon.valueTypes) ? e.set.anon.valueTypes : [];
      return [];
    }
    default:
      return [e.dt];
  }
}

/** A stretch of whole lines stepped over by a lazy parse. */
export interface LineRun {
  src: string;
  /** Offset of the start of the first line. */
  start: number;
  /** Offset of the newline that ends the last line (or the end of the text). */
  end: number;
  /** Line number of the first line. */
  line: number;
  /** Offsets of the newlines inside the run (the parser counts them to go on counting lines). */
  newlines: number[];
}

/** The runs of one lazily parsed text, shared by its tables; `searched` remembers the chains already given their lines. */
export interface RuleRuns {
  list: LineRun[];
  searched: WeakSet<Chain>;
}
