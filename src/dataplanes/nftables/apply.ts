// The nftables applier. One transaction per sync, both tables in it:
//  - the first sync (and the first after a failure) replaces any table of the same name
//    atomically: `add table; delete table; add table; …` — no moment without rules;
//  - a periodic full sync rewrites everything in place (flush table, flush the global maps,
//    re-add) but keeps the affinity sets, whose dynamic entries are live session state;
//  - a partial sync touches only the chains, sets and elements of the service ports in
//    state.changed / state.deleted, diffed against what was committed last. What is kept in
//    memory for that is small (plan.ts Committed): the model's ServicePortState of each
//    committed port, which ports own elements in each address (elements.ts ClaimIndex), and
//    the chain and set names; a port's rules and elements are compiled again when it changes.
// The text is planned by plan.ts (pure); this file runs it and keeps what was committed.
// Who writes it: a partial sync that only adds and deletes map and set elements (one
// EndpointSlice changed: the common case) goes through the resident netlink writer
// (netlink/writer.ts), one batch in one send(); everything else, and every sync where that
// writer cannot be had, through `nft -f FILE` (nft.ts). The choice is logged once.
// A failed transaction changes nothing in the kernel; the error is thrown (the runner retries
// with a full sync) and the failures counter goes up.
import { Counter } from 'prom-client';
import type { Config } from '../../config/types.js';
import type { ProxyState } from '../../model/types.js';
import type { Logger } from '../../util/log.js';
import { RENDER_SLICE_PORTS, type Dataplane, type DataplaneContext } from '../dataplane.js';
import { FAMILIES } from './compile.js';
import { nftRunner, type NftRunner } from './nft.js';
import { ElementWriter } from './netlink/writer.js';
import { fullSyncText, replaceChunks, replaceText } from './fullsync.js';
import { SlabArena } from '../../util/slab-arena.js';
import { planPartialSync, type Committed } from './plan.js';
import { TABLE, tableRef, type NftFamily } from './ruleset.js';

export interface NftablesOptions {
  /** Runs one transaction (tests inject failures here). */
  nft?: NftRunner;
  /**
   * Writes element-only partial syncs. Default: a netfilter netlink socket, unless `nft` is
   * injected (a test's runner sees every transaction); null: every sync through `nft`.
   */
  elements?: ElementWriter | null;
  /** Called after every successful sync (conntrack reconciler). */
  afterSync?: (state: ProxyState) => Promise<void>;
  /** Where the committed ruleset is published (the /rules page). */
  publishRuleset?: DataplaneContext['publishRuleset'];
}

export interface SyncReport {
  kind: 'replace' | 'full' | 'partial' | 'none';
  lines: number;
  /** Who wrote it: the nft binary or the resident netlink writer. */
  writer: 'nft' | 'netlink' | null;
}

export class NftablesDataplane implements Dataplane {
  readonly mode = 'nftables';
  private committed: Map<NftFamily, Committed> | null = null;
  private readonly nft: NftRunner;
  private readonly elements: ElementWriter | null;
  private readonly syncFailures: Counter;
  /** What the last sync did (for logs, tests and the benchmark). */
  lastSync: SyncReport = { kind: 'none', lines: 0, writer: null };

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    registry: DataplaneContext['metrics']['registry'],
    private readonly opts: NftablesOptions = {},
  ) {
    this.nft = opts.nft ?? nftRunner();
    this.elements = opts.elements !== undefined ? opts.elements : opts.nft ? null : openElementWriter(log);
    this.syncFailures = counter(registry, 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total', 'Cumulative proxy nftables sync failures');
  }

  async sync(state: ProxyState, full: boolean): Promise<void> {
    const replace = this.committed === null;
    let kind: SyncReport['kind'];
    let lines = 0;
    let writer: SyncReport['writer'] = 'nft';
    let committed: Map<NftFamily, Committed>;
    try {
      if (replace || full) {
        kind = replace ? 'replace' : 'full';
        const plan = { lines: 0, committed: new Map<NftFamily, Committed>() };
        const arena = new SlabArena(); // the text's memory, reused by the next full sync
        try {
          await this.nft(fullSyncText(state, this.config, replace ? null : this.committed, plan, arena));
        } finally {
          arena.recycle(); // the runner is done with the text (nft.ts NftRunner)
        }
        lines = plan.lines;
        committed = plan.committed;
      } else {
        kind = 'partial';
        // A partial plan updates the committed copy in place: if the transaction fails,
        // committed is dropped below and the next sync is a clean replace.
        const plan = planPartialSync(state, this.config, this.committed!);
        lines = plan.lines.length;
        committed = plan.committed;
        const batch = lines > 0 && plan.elementOnly && this.elements ? this.elements.encode(TABLE, plan.elements) : null;
        if (batch) {
          this.elements!.commit(batch);
          writer = 'netlink';
        } else if (lines > 0) await this.nft(plan.lines.join('\n') + '\n');
      }
    } catch (e) {
      this.syncFailures.inc();
      this.committed = null; // the next sync starts from a clean replace
      throw e;
    }
    this.committed = committed;
    this.lastSync = { kind: lines === 0 ? 'none' : kind, lines, writer: lines === 0 ? null : writer };
    this.publish(state, committed);
    this.log.debug({ kind: this.lastSync.kind, lines, writer: this.lastSync.writer }, 'nftables synced');
    if (this.opts.afterSync) await this.opts.afterSync(state);
  }

  /**
   * Publishes what is now in the kernel, as `kproxy rules` prints it: the committed service
   * ports (whatever mix of full and partial syncs put them there) under the global objects of
   * this state's node. Rendered only when someone asks for it.
   */
  private publish(state: ProxyState, committed: Map<NftFamily, Committed>): void {
    if (!this.opts.publishRuleset) return;
    // What is committed now, copied: later partial syncs update `committed` in place.
    const tables = [...committed].map(([family, c]) => ({ family, fc: c.fc, ports: [...c.ports.values()] }));
    const node = state.node;
    this.opts.publishRuleset({
      mode: 'nftables',
      appliedAt: new Date(),
      generation: state.generation,
      node: node.name,
      nodeAddresses: node.addresses,
      // The full sync's one-pass writer, as if these ports were synced in full now.
      render: () => replaceText(tables),
      chunks: () => replaceChunks(tables, RENDER_SLICE_PORTS),
    });
  }

  async close(): Promise<void> {
    // Like kube-proxy, leave the rules in place: traffic keeps flowing while kproxy restarts.
    this.elements?.close();
  }
}

function openElementWriter(log: Logger): ElementWriter | null {
  const w = ElementWriter.open();
  if (typeof w === 'string') {
    log.warn({ reason: w }, 'nftables: no netlink element writer, every sync runs nft -f');
    return null;
  }
  log.info('nftables: element-only partial syncs through a netlink socket, the others through nft -f');
  return w;
}

/** Deletes exactly kproxy's two tables (creating them first makes the delete always succeed). */
export function cleanupText(): string {
  return FAMILIES.flatMap((f) => [`add table ${tableRef(f)}`, `delete table ${tableRef(f)}`]).join('\n') + '\n';
}

function counter(registry: DataplaneContext['metrics']['registry'], name: string, help: string): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, registers: [registry] });
}
