// The nftables applier. One `nft -f -` transaction per sync, both tables in it:
//  - the first sync (and the first after a failure) replaces any table of the same name
//    atomically: `add table; delete table; add table; …` — no moment without rules;
//  - a periodic full sync rewrites everything in place (flush table, flush the global maps,
//    re-add) but keeps the affinity sets, whose dynamic entries are live session state;
//  - a partial sync touches only the chains, sets and elements of the service ports in
//    state.changed / state.deleted, diffed against what was committed last (kept in memory).
// A failed transaction changes nothing in the kernel; the error is thrown (the runner retries
// with a full sync) and the failures counter goes up.
import { Counter } from 'prom-client';
import type { Config } from '../../config/types.js';
import type { ProxyState } from '../../model/types.js';
import type { Logger } from '../../util/log.js';
import type { Dataplane } from '../dataplane.js';
import type { DataplaneContext } from '../dataplane.js';
import { compileServicePort, compileTable, familyContext, FAMILIES, globalChains, globalElements, globalSets } from './compile.js';
import { renderPortChanges, type PortChange } from './diff.js';
import type { ElementIndex } from './elements.js';
import { nftRunner, type NftRunner } from './nft.js';
import { indexElements, renderDeclarations, renderElements, renderTable, sharedChains, tableRef, type NftFamily, type PortRules, type TableRuleset } from './ruleset.js';

/** What kproxy believes is in one of its tables: exactly what it last committed. */
interface Committed {
  index: ElementIndex;
  ports: Map<string, PortRules>;
  globalChains: Set<string>;
  /** Pick chains present in the table (added by partial syncs as needed, pruned by full ones). */
  sharedChains: Set<string>;
  globalSets: Set<string>;
}

export interface NftablesOptions {
  /** Runs one transaction (tests inject failures here). */
  nft?: NftRunner;
  /** Called after every successful sync (conntrack reconciler). */
  afterSync?: (state: ProxyState) => Promise<void>;
  /** Where the committed ruleset is published (the /rules page). */
  publishRuleset?: DataplaneContext['publishRuleset'];
}

export interface SyncReport {
  kind: 'replace' | 'full' | 'partial' | 'none';
  lines: number;
}

export class NftablesDataplane implements Dataplane {
  readonly mode = 'nftables';
  private committed: Map<NftFamily, Committed> | null = null;
  private readonly nft: NftRunner;
  private readonly syncFailures: Counter;
  readonly cleanupFailures: Counter;
  /** What the last sync did (for logs, tests and the benchmark). */
  lastSync: SyncReport = { kind: 'none', lines: 0 };

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    registry: DataplaneContext['metrics']['registry'],
    private readonly opts: NftablesOptions = {},
  ) {
    this.nft = opts.nft ?? nftRunner();
    this.syncFailures = counter(registry, 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total', 'Cumulative proxy nftables sync failures');
    this.cleanupFailures = counter(registry, 'kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total', 'Cumulative proxy nftables cleanup failures');
  }

  async sync(state: ProxyState, full: boolean): Promise<void> {
    const replace = this.committed === null;
    let kind: SyncReport['kind'];
    let lines = 0;
    let committed: Map<NftFamily, Committed>;
    try {
      if (replace || full) {
        kind = replace ? 'replace' : 'full';
        const plan = { lines: 0, committed: new Map<NftFamily, Committed>() };
        await this.nft(this.fullText(state, replace, plan));
        lines = plan.lines;
        committed = plan.committed;
      } else {
        kind = 'partial';
        const plan = this.planPartial(state);
        lines = plan.lines.length;
        committed = plan.committed;
        if (lines > 0) await this.nft(plan.lines.join('\n') + '\n');
      }
    } catch (e) {
      this.syncFailures.inc();
      this.committed = null; // the next sync starts from a clean replace
      throw e;
    }
    this.committed = committed;
    this.lastSync = { kind: lines === 0 ? 'none' : kind, lines };
    this.publish(state, committed);
    this.log.debug({ kind: this.lastSync.kind, lines }, 'nftables synced');
    if (this.opts.afterSync) await this.opts.afterSync(state);
  }

  /**
   * The full sync's text, streamed: each table's declarations go to nft first, and the element
   * index is built while nft parses them. plan receives the line count and the committed state.
   */
  private async *fullText(state: ProxyState, replace: boolean, plan: { lines: number; committed: Map<NftFamily, Committed> }): AsyncGenerator<string> {
    for (const family of FAMILIES) {
      const t = compileTable(state, this.config, family);
      const head = renderDeclarations(t, { replace, flush: !replace });
      plan.lines += head.length;
      yield head.join('\n') + '\n';
      const c = committedOf(t);
      const tail = renderElements(family, c.index);
      const old = this.committed?.get(family);
      if (!replace && old) tail.push(...staleDeletes(family, old, c));
      plan.lines += tail.length;
      if (tail.length > 0) yield tail.join('\n') + '\n';
      plan.committed.set(family, c);
    }
  }

  private planPartial(state: ProxyState) {
    const lines: string[] = [];
    const committed = this.committed!;
    for (const family of FAMILIES) {
      const c = committed.get(family)!;
      const fc = familyContext(family, this.config, state.node);
      const changes: PortChange[] = [];
      const keys = new Set([...state.deleted, ...state.changed]);
      for (const key of [...keys].sort()) {
        const sp = state.servicePorts.get(key);
        const mine = sp && sp.family === fc.ipFamily ? sp : undefined;
        const before = c.ports.get(key);
        if (!mine && !before) continue;
        const after = mine ? compileServicePort(mine, fc) : undefined;
        changes.push({ key, before, after });
        if (after) c.ports.set(key, after);
        else c.ports.delete(key);
      }
      lines.push(...renderPortChanges(family, changes, c.index, c.sharedChains));
    }
    // Partial plans mutate the committed copy in place: if the transaction fails, committed
    // is dropped and the next sync is a clean replace, so nothing stale survives.
    return { kind: 'partial' as SyncReport['kind'], lines, committed };
  }

  /**
   * Publishes what is now in the kernel, as `kproxy rules` prints it: the committed service
   * ports (whatever mix of full and partial syncs put them there) under the global objects of
   * this state's node. Rendered only when someone asks for it.
   */
  private publish(state: ProxyState, committed: Map<NftFamily, Committed>): void {
    if (!this.opts.publishRuleset) return;
    const ports = new Map([...committed].map(([f, c]) => [f, [...c.ports.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))]));
    const config = this.config;
    const node = state.node;
    this.opts.publishRuleset({
      mode: 'nftables',
      appliedAt: new Date(),
      generation: state.generation,
      node: node.name,
      nodeAddresses: node.addresses,
      render: () => {
        const lines: string[] = [];
        for (const family of FAMILIES) {
          const fc = familyContext(family, config, node);
          renderTable({ family, sets: globalSets(fc), chains: globalChains(fc), elements: globalElements(fc), ports: ports.get(family) ?? [] }, { replace: true }, lines);
        }
        return lines.join('\n') + '\n';
      },
    });
  }

  /** `kproxy cleanup`: delete both tables, whether or not they exist. */
  async cleanup(): Promise<void> {
    try {
      await this.nft(cleanupText());
      this.committed = null;
    } catch (e) {
      this.cleanupFailures.inc();
      throw e;
    }
  }

  async close(): Promise<void> {
    // Like kube-proxy, leave the rules in place: traffic keeps flowing while kproxy restarts.
  }
}

/** Deletes exactly kproxy's two tables (creating them first makes the delete always succeed). */
export function cleanupText(): string {
  return FAMILIES.flatMap((f) => [`add table ${tableRef(f)}`, `delete table ${tableRef(f)}`]).join('\n') + '\n';
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

function counter(registry: DataplaneContext['metrics']['registry'], name: string, help: string): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, registers: [registry] });
}

export async function createNftablesDataplane(ctx: DataplaneContext, opts: NftablesOptions = {}): Promise<NftablesDataplane> {
  return new NftablesDataplane(ctx.config, ctx.log, ctx.metrics.registry, { publishRuleset: ctx.publishRuleset, ...opts });
}
