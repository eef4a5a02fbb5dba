// The nftables applier's planner: pure functions from (ProxyState, config, what was committed
// last) to the transaction text and to what will be committed once nft accepts it.
//  - a full sync (fullsync.ts): each table's declarations then its elements; with
//    `previous`, an in-place rewrite that also deletes what went stale, without it a replace
//    (`add table; delete table; add table; …`);
//  - a partial sync: only the chains, sets and elements of the service ports in
//    state.changed / state.deleted, diffed against what was committed.
import type { Config } from '../../config/types.js';
import type { ProxyState } from '../../model/types.js';
import { renderPortChanges, type PortChange } from './diff.js';
import type { ElementOp } from './elements.js';
import { compileServicePort } from './port.js';
import { FAMILIES } from './context.js';
import type { NftFamily } from './ruleset.js';

import type { Committed } from './committed.js';

export type { Committed } from './committed.js';

/**
 * The partial sync's lines. Updates `committed` in place to what it will be once the lines
 * are committed: a caller whose transaction fails must drop it (and replace next time).
 */
export function planPartialSync(state: ProxyState, _config: Config, committed: Map<NftFamily, Committed>): PartialPlan {
  const lines: string[] = [];
  const elements: ElementOp[] = [];
  let elementOnly = true;
  const keys = [...new Set([...state.deleted, ...state.changed])].sort();
  for (const family of FAMILIES) {
    const c = committed.get(family)!;
    const fc = c.fc;
    const changes: PortChange[] = [];
    for (const key of keys) {
      const sp = state.servicePorts.get(key);
      const mine = sp && sp.family === fc.ipFamily ? sp : undefined;
      const old = c.ports.get(key);
      if (!mine && !old) continue;
      const before = old ? compileServicePort(old, fc) : undefined;
      const after = mine ? compileServicePort(mine, fc) : undefined;
      changes.push({ key, before, after });
      if (mine) c.ports.set(key, mine);
      else c.ports.delete(key);
      for (const ch of before?.chains ?? []) c.portChains.delete(ch.name);
      for (const s of before?.sets ?? []) c.portSets.delete(s.name);
      for (const ch of after?.chains ?? []) c.portChains.add(ch.name);
      for (const s of after?.sets ?? []) c.portSets.add(s.name);
    }
    const r = renderPortChanges(family, changes, c.claims, c.sharedChains, (owner) => compileServicePort(c.ports.get(owner)!, fc));
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
