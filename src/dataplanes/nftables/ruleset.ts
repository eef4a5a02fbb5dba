import { ElementIndex, type ElementRef } from './elements.js';

// The compiled ruleset of one nft table, kept structured so that the applier can diff it:
// global objects (base chains, the few maps every service shares) plus, per service port,
// the chains, affinity sets and map elements it owns. Rendering to nft text is here too.
export type NftFamily = 'ip' | 'ip6';

/** kproxy's table: the same name in the `ip` and the `ip6` family. */
export const TABLE = 'kproxy';
export const TABLE_COMMENT = 'rules for kproxy';

export interface SetDecl {
  kind: 'set' | 'map';
  name: string;
  /** What goes between the braces: "type ipv4_addr ; flags interval ;". */
  body: string;
}

export interface ChainDecl {
  name: string;
  /** Base chains: "type nat hook prerouting priority dstnat ;". */
  hook?: string;
  rules: string[];
}

export type { ElementRef } from './elements.js';

/** Everything one service port owns in one table. */
export interface PortRules {
  key: string;
  chains: ChainDecl[];
  /** Shared chains it jumps to (pick chains), owned by no one port; same name, same rules. */
  shared: ChainDecl[];
  sets: SetDecl[];
  elements: ElementRef[];
}

export interface TableRuleset {
  family: NftFamily;
  sets: SetDecl[];
  chains: ChainDecl[];
  elements: ElementRef[];
  /** Sorted by key. */
  ports: PortRules[];
}

export const tableRef = (family: NftFamily) => `${family} ${TABLE}`;

/** Lines that (re)create the table: with replace, an existing table is dropped in the same transaction. */
export function tableHeader(family: NftFamily, replace: boolean): string[] {
  const t = tableRef(family);
  const out = replace ? [`add table ${t}`, `delete table ${t}`] : [];
  out.push(`add table ${t} { comment ${JSON.stringify(TABLE_COMMENT)} ; }`);
  return out;
}

export const setLine = (family: NftFamily, s: SetDecl) => `add ${s.kind} ${tableRef(family)} ${s.name} { ${s.body} }`;
export const chainLine = (family: NftFamily, c: ChainDecl) => `add chain ${tableRef(family)} ${c.name}` + (c.hook ? ` { ${c.hook} }` : '');
export const ruleLine = (family: NftFamily, chain: string, rule: string) => `add rule ${tableRef(family)} ${chain} ${rule}`;
export const elementText = (e: { key: string; value: string }) => (e.value === '' ? e.key : `${e.key} : ${e.value}`);

const ELEMENTS_PER_LINE = 500;

/** `add element` (or `delete element`) lines, a few hundred elements per line. */
export function elementLines(family: NftFamily, verb: 'add' | 'delete', set: string, items: string[], out: string[]): void {
  for (let i = 0; i < items.length; i += ELEMENTS_PER_LINE) {
    out.push(`${verb} element ${tableRef(family)} ${set} { ${items.slice(i, i + ELEMENTS_PER_LINE).join(', ')} }`);
  }
}

/** The claims of every element of a table: global ones first, then each port's in key order. */
export function indexElements(t: TableRuleset): ElementIndex {
  const index = new ElementIndex();
  for (const e of t.elements) index.add(e);
  for (const p of t.ports) for (const e of p.elements) index.add(e);
  return index;
}

export interface RenderOptions {
  /** Drop any table of the same name in the same transaction (start, after a failure). */
  replace: boolean;
  /**
   * Rewrite an existing table in place: flush every chain and the global maps, but keep the
   * affinity sets' dynamic entries (a periodic resync must not forget session affinity).
   */
  flush?: boolean;
}

/** The shared chains the ports use, each once, by name. */
export function sharedChains(ports: readonly PortRules[]): ChainDecl[] {
  const m = new Map<string, ChainDecl>();
  for (const p of ports) for (const c of p.shared) if (!m.has(c.name)) m.set(c.name, c);
  return [...m.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The whole table as nft commands, in dependency order: sets, chains, rules, elements. */
export function renderTable(t: TableRuleset, opts: RenderOptions, out: string[] = [], index = indexElements(t)): string[] {
  renderDeclarations(t, opts, out);
  renderElements(t.family, index, out);
  return out;
}

/** The table, its sets, chains and rules (everything but the elements). */
export function renderDeclarations(t: TableRuleset, opts: RenderOptions, out: string[] = []): string[] {
  const f = t.family;
  out.push(...tableHeader(f, opts.replace));
  if (opts.flush) out.push(`flush table ${tableRef(f)}`);
  for (const s of t.sets) {
    out.push(setLine(f, s));
    if (opts.flush) out.push(`flush ${s.kind} ${tableRef(f)} ${s.name}`);
  }
  for (const p of t.ports) for (const s of p.sets) out.push(setLine(f, s));
  const shared = sharedChains(t.ports);
  for (const c of t.chains) out.push(chainLine(f, c));
  for (const c of shared) out.push(chainLine(f, c));
  for (const p of t.ports) for (const c of p.chains) out.push(chainLine(f, c));
  for (const c of t.chains) for (const r of c.rules) out.push(ruleLine(f, c.name, r));
  for (const c of shared) for (const r of c.rules) out.push(ruleLine(f, c.name, r));
  for (const p of t.ports) for (const c of p.chains) for (const r of c.rules) out.push(ruleLine(f, c.name, r));
  return out;
}

/** Every effective element, a few hundred per `add element` line. */
export function renderElements(f: NftFamily, index: ElementIndex, out: string[] = []): string[] {
  for (const [set, items] of index.rendered(ELEMENTS_PER_LINE)) elementLines(f, 'add', set, items, out);
  return out;
}
