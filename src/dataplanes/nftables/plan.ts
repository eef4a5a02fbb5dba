// The nftables applier's planner: pure functions from (ProxyState, config, what was committed
// last) to the transaction text and to what will be committed once nft accepts it.
//  - a full sync: each table's declarations then its elements (streamed, so nft parses while
//    the rest is built); with `previous`, an in-place rewrite that also deletes what went
//    stale, without it a replace (`add table; delete table; add table; …`);
//  - a partial sync: only the chains, sets and elements of the service ports in
//    state.changed / state.deleted, diffed against what was committed.
import type { Config } from '../../config/types.js';
import type { ProxyState } from '../../model/types.js';
import { compileTable, familyContext, FAMILIES } from './compile.js';
import { renderPortChanges, type PortChange } from './diff.js';
import type { ElementIndex, ElementOp } from './elements.js';
import { compileServicePort } from './port.js';
import { indexElements, renderDeclarations, renderElements, sharedChains, tableRef, type NftFamily, type PortRules, type TableRuleset } from './ruleset.js';

export /** What kproxy believes is in one of its tables: exactly what it last committed. */
interface Committed {
  index: ElementIndex;
  ports: Map<string, PortRules>;
  globalChains: Set<string>;
  /** Pick chains present in the table (added by partial syncs as needed, pruned by full ones). */
  sharedChains: Set<string>;
  globalSets: Set<string>;
}

/**
 * The full sync's text, streamed: each table's declarations go to nft first, and the element
 * index is built while nft parses them. `plan` receives the line count and the new committed
 * state. `previous` null: replace the tables; else rewrite them in place (keeping the affinity
 * sets' live entries) and delete what is no longer there.
 */
export async function* fullSyncText(
  state: ProxyState,
  config: Config,
  previous: ReadonlyMap<NftFamily, Committed> | null,
  plan: { lines: number; committed: Map<NftFamily, Committed> },
): AsyncGenerator<string> {
  const replace = previous === null;
  for (const family of FAMILIES) {
    const t = compileTable(state, config, family);
    const head = renderDeclarations(t, { replace, flush: !replace });
    plan.lines += head.length;
    yield head.join('\n') + '\n';
    const c = committedOf(t);
    const tail = renderElements(family, c.index);
    const old = previous?.get(family);
    if (old) tail.push(...staleDeletes(family, old, c));
    plan.lines += tail.length;
    if (tail.length > 0) yield tail.join('\n') + '\n';
    plan.committed.set(family, c);
  }
}

/**
 * The partial sync's lines. Updates `committed` in place to what it will be once the lines
 * are committed: a caller whose transaction fails must drop it (and replace next time).
 */
export function planPartialSync(state: ProxyState, config: Config, committed: Map<NftFamily, Committed>): PartialPlan {
  const lines: string[] = [];
  const elements: ElementOp[] = [];
  let elementOnly = true;
  const keys = [...new Set([...state.deleted, ...state.changed])].sort();
  for (const family of FAMILIES) {
    const c = committed.get(family)!;
    const fc = familyContext(family, config, state.node);
    const changes: PortChange[] = [];
    for (const key of keys) {
      const sp = state.servicePorts.get(key);
      const mine = sp && sp.family === fc.ipFamily ? sp : undefined;
      const before = c.ports.get(key);
      if (!mine && !before) continue;
      const after = mine ? compileServicePort(mine, fc) : undefined;
      changes.push({ key, before, after });
      if (after) c.ports.set(key, after);
      else c.ports.delete(key);
    }
    const r = renderPortChanges(family, changes, c.index, c.sharedChains);
    for (const l of r.lines) lines.push(l);
    elements.push(...r.elements);
    elementOnly &&= r.elementOnly;
  }
  return { lines, elements, elementOnly, committed };
}

/** A partial sync: its nft text (lines), and, when it only adds and deletes elements, the same as data. */
export interface PartialPlan {
  lines: string[];
  elements: ElementOp[];
  elementOnly: boolean;
  committed: Map<NftFamily, Committed>;
}

function committedOf(t: TableRuleset): Committed {
  const index = indexElements(t);
  const ports = new Map<string, PortRules>();
  for (const p of t.ports) ports.set(p.key, p);
  return {
    index,
    ports,
    globalChains: new Set(t.chains.map((c) => c.name)),
    sharedChains: new Set(sharedChains(t.ports).map((c) => c.name)),
    globalSets: new Set(t.sets.map((s) => s.name)),
  };
}

/** After an in-place full rewrite: delete the chains and sets that no longer exist. */
function staleDeletes(family: NftFamily, old: Committed, now: Committed): string[] {
  const t = tableRef(family);
  const chains = (c: Committed) => {
    const s = new Set([...c.globalChains, ...c.sharedChains]);
    for (const p of c.ports.values()) for (const ch of p.chains) s.add(ch.name);
    return s;
  };
  const sets = (c: Committed) => {
    const m = new Map<string, string>();
    for (const n of c.globalSets) m.set(n, 'set');
    for (const p of c.ports.values()) for (const s of p.sets) m.set(s.name, 'set');
    return m;
  };
  const keep = chains(now);
  const keepSets = sets(now);
  const out: string[] = [];
  for (const name of chains(old)) if (!keep.has(name)) out.push(`delete chain ${t} ${name}`);
  // Global maps are deleted with `delete map`, sets with `delete set`; only sets can go stale
  // in practice (affinity sets, nodeport-ips, pod-cidrs) and nft accepts `delete set` for both.
  for (const name of sets(old).keys()) if (!keepSets.has(name)) out.push(`delete set ${t} ${name}`);
  return out;
}
