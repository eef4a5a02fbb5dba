// The nft text of a partial sync: only the chains, affinity sets and map elements of the
// service ports that changed, computed against what kproxy committed last (kept in memory;
// the kernel's table is never listed).
import type { ClaimIndex, ElementOp, ElementRef } from './elements.js';
import { chainLine, elementLines, elementText, ruleLine, setLine, tableRef, type NftFamily, type PortRules } from './ruleset.js';

export interface PortChange {
  key: string;
  before: PortRules | undefined;
  after: PortRules | undefined;
}

/** A partial sync's part for one table: its nft lines, and the same element changes as data. */
export interface PortChangesText {
  lines: string[];
  /** The element lines' content, for writers that do not speak nft's language. */
  elements: ElementOp[];
  /** True when every line is an element line (no set, chain or rule changes). */
  elementOnly: boolean;
}

/**
 * Renders the changes and updates claims (and the set of shared chains) to match. No lines
 * when nothing changed. `unchanged` compiles a committed port that is not among the changes:
 * the ports that share a scope with a changed one are compiled again to find which claim of
 * an element wins (the first in key order), before and after.
 */
export function renderPortChanges(family: NftFamily, changes: PortChange[], claims: ClaimIndex, shared: Set<string>, unchanged: (owner: string) => PortRules): PortChangesText {
  const t = tableRef(family);
  const byKey = new Map(changes.map((c) => [c.key, c]));
  // Each owner's claims by set and key (its first claim of a key), built once per phase: a
  // Service with thousands of endpoints must not cost a scan of its elements per element.
  const lookups = [new Map<string, Map<string, string>>(), new Map<string, Map<string, string>>()];
  const claimsOf = (owner: string, after: boolean): Map<string, string> => {
    const cache = lookups[after ? 1 : 0];
    let m = cache.get(owner);
    if (m) return m;
    const c = byKey.get(owner);
    const elements = c ? ((after ? c.after?.elements : c.before?.elements) ?? []) : unchanged(owner).elements;
    m = new Map();
    for (const e of elements) {
      const id = elementId(e);
      if (!m.has(id)) m.set(id, e.value);
    }
    // An unchanged owner is the same before and after.
    if (!c) for (const other of lookups) other.set(owner, m);
    else cache.set(owner, m);
    return m;
  };
  const effective = (x: ElementRef, id: string, after: boolean): string | undefined => {
    for (const owner of claims.owners(x.scope)) {
      const v = claimsOf(owner, after).get(id);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  // Every element a change touches, once, with its value in effect before the changes.
  const touched = new Map<string, { e: ElementRef; was: string | undefined }>();
  for (const c of changes) {
    for (const e of [...(c.before?.elements ?? []), ...(c.after?.elements ?? [])]) {
      const id = elementId(e);
      if (!touched.has(id)) touched.set(id, { e, was: effective(e, id, false) });
    }
  }
  for (const c of changes) {
    const before = new Set((c.before?.elements ?? []).map((e) => e.scope));
    const after = new Set((c.after?.elements ?? []).map((e) => e.scope));
    for (const s of before) if (!after.has(s)) claims.release(s, c.key);
    for (const s of after) if (!before.has(s)) claims.claim(s, c.key);
  }
  const deletes = new Map<string, { key: string; value: string }[]>();
  const adds = new Map<string, { key: string; value: string }[]>();
  const push = (m: Map<string, { key: string; value: string }[]>, set: string, key: string, value: string) => {
    let l = m.get(set);
    if (!l) m.set(set, (l = []));
    l.push({ key, value });
  };
  for (const [id, { e, was }] of touched) {
    const now = effective(e, id, true);
    if (was === now) continue;
    if (was !== undefined) push(deletes, e.set, e.key, was);
    if (now !== undefined) push(adds, e.set, e.key, now);
  }

  const out: string[] = [];
  const newSets: string[] = [];
  const newChains: string[] = [];
  const rewrite: string[] = [];
  const goneChains: string[] = [];
  const goneSets: string[] = [];
  for (const c of changes) {
    const oldSets = new Set((c.before?.sets ?? []).map((s) => s.name));
    const newSetNames = new Set((c.after?.sets ?? []).map((s) => s.name));
    for (const s of c.after?.sets ?? []) if (!oldSets.has(s.name)) newSets.push(setLine(family, s));
    for (const s of oldSets) if (!newSetNames.has(s)) goneSets.push(s);
    const oldChains = new Map((c.before?.chains ?? []).map((ch) => [ch.name, ch.rules] as const));
    const newChainNames = new Set((c.after?.chains ?? []).map((ch) => ch.name));
    for (const ch of c.after?.chains ?? []) {
      const old = oldChains.get(ch.name);
      if (!old) {
        newChains.push(chainLine(family, ch));
        for (const r of ch.rules) rewrite.push(ruleLine(family, ch.name, r));
      } else if (old.length !== ch.rules.length || old.some((r, i) => r !== ch.rules[i])) {
        rewrite.push(`flush chain ${t} ${ch.name}`);
        for (const r of ch.rules) rewrite.push(ruleLine(family, ch.name, r));
      }
    }
    for (const name of oldChains.keys()) if (!newChainNames.has(name)) goneChains.push(name);
  }
  // Pick chains the table does not have yet (shared; never removed by a partial sync). Their
  // rules go before the rewrites that jump to them, in their own order.
  const pickRules: string[] = [];
  for (const c of changes) {
    for (const ch of c.after?.shared ?? []) {
      if (shared.has(ch.name)) continue;
      shared.add(ch.name);
      newChains.push(chainLine(family, ch));
      for (const r of ch.rules) pickRules.push(ruleLine(family, ch.name, r));
    }
  }
  rewrite.unshift(...pickRules);
  out.push(...newSets, ...newChains);
  const elements: ElementOp[] = [];
  for (const [set, items] of deletes) {
    elementLines(
      family,
      'delete',
      set,
      items.map((i) => i.key),
      out,
    );
    elements.push({ family, verb: 'delete', set, items });
  }
  out.push(...rewrite);
  for (const [set, items] of adds) {
    elementLines(family, 'add', set, items.map(elementText), out);
    elements.push({ family, verb: 'add', set, items });
  }
  // Removed chains go last: their map elements and the rules that jumped to them are gone by now.
  for (const name of goneChains) out.push(`flush chain ${t} ${name}`);
  for (const name of goneChains) out.push(`delete chain ${t} ${name}`);
  for (const name of goneSets) out.push(`delete set ${t} ${name}`);
  const elementOnly = newSets.length + newChains.length + rewrite.length + goneChains.length + goneSets.length === 0;
  return { lines: out, elements, elementOnly };
}

const elementId = (e: ElementRef) => `${e.set}\u0000${e.key}`;
