// The iptables applier. Per IP family, one `iptables-restore --noflush` (both tables in it;
// each table is committed atomically, the rest of the host's rules untouched):
//  - a full sync (the first, every syncPeriod, after any failure, when the canary chain has
//    gone or large-cluster mode flips) writes every KUBE-* chain, deletes per-service chains
//    that iptables-save shows but the state no longer has, and makes sure of the jump rules in
//    the built-in chains (read in iptables-save, `-I` when missing) and the canary chains;
//  - a partial sync rewrites only the per-service chains of the ports in state.changed, the
//    top-level chains (KUBE-SERVICES, KUBE-NODEPORTS, …) whose rules differ from the last
//    sync's, and deletes the chains those ports (and state.deleted) no longer use. An
//    EndpointSlice change thus hands iptables-restore one KUBE-SVC chain and its KUBE-SEPs.
// A failed restore changes nothing of that table; the error is thrown (the runner retries with
// a full sync), kubeproxy_sync_proxy_rules_iptables_restore_failures_total goes up.
import { readSysctl as readProcSysctl, writeSysctl as writeProcSysctl } from '../../util/sysctl.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { IPFamily } from '../../api/ip.js';
import type { Config } from '../../config/types.js';
import type { ProxyState } from '../../model/types.js';
import type { Logger } from '../../util/log.js';
import { RENDER_SLICE_PORTS, type Dataplane, type DataplaneContext } from '../dataplane.js';
import { detectBackend, runTool, type IptablesTools } from './backend.js';
import { ALL_NFACCT, compileServicePort, compileStreamed, familyContext, FAMILIES, portsOf, type FamilyContext, type FamilyRuleset, type PortRules } from './compile.js';
import { textOf } from '../../util/byte-text.js';
import { describeRestoreError, IptablesError } from './exec.js';
import { ensureNfacctCounters, registerNfacctMetrics } from './nfacct.js';
import { CANARY, isJumpRule, jumpRules, type JumpRule } from './jumps.js';
import { readSaved } from './saved.js';
import { ChainNames, isServiceChain } from './naming.js';
import { KUBELET_FIREWALL, renderFamilyCounted, topLevelRules } from './restore.js';
import { compileText, compileTextChunks } from './text.js';
import { restoreTimeoutMs, saveTimeoutMs, UNKNOWN_TABLE_LINES } from './timeouts.js';

/** What kproxy believes is in one family's tables: exactly what it last committed. */
interface Committed {
  ports: Map<string, PortRules>;
  /** The top-level chains' rules ("table/chain" → rules joined by newlines). */
  top: Map<string, string>;
  largeClusterMode: boolean;
}

export interface IptablesOptions {
  tools?: IptablesTools;
  /** Called after every successful sync (conntrack reconciler). */
  afterSync?: (state: ProxyState) => Promise<void>;
  /** Where the committed ruleset is published (the /rules page). */
  publishRuleset?: DataplaneContext['publishRuleset'];
  /** How often a partial sync first checks that the canary chain still exists. */
  canaryCheckMs?: number;
  /** The least time an iptables-restore or iptables-save gets; large inputs get more (timeouts.ts). */
  timeoutMs?: number;
  /** Sees (and may change) each restore input before it is run: tests inject failures here. */
  beforeRestore?: (family: IPFamily, input: string) => string;
  /** Keep the last sync's restore input per family for `inputText` (tests, benchmark); off, it is dropped after the restore. */
  keepInputs?: boolean;
}

export interface SyncReport {
  kind: 'full' | 'partial';
  /** Lines handed to iptables-restore, per family. */
  lines: number;
  deletedChains: number;
}

export class IptablesDataplane implements Dataplane {
  readonly mode = 'iptables';
  private committed: Map<IPFamily, Committed> | null = null;
  private tools: IptablesTools | null;
  private lastCanaryCheck = 0;
  private routeLocalnetSet = false;
  /** The nfacct counters that exist (null: not looked at yet). */
  private nfacct: ReadonlySet<string> | null = null;
  /** Whether the last full sync's iptables-save showed a route_localnet record (null: not read yet). */
  private routeLocalnetRecorded: boolean | null = null;
  private readonly restoreFailures: Counter;
  private readonly partialFailures: Counter;
  private readonly rulesTotal: Gauge<'table'>;
  private readonly rulesLast: Gauge<'table'>;
  /** The floor of every restore and save deadline. */
  private readonly timeoutMs: number;
  /** Lines of the last full restore per family: roughly what iptables-save will read back. */
  private readonly tableLines = new Map<IPFamily, number>();
  /** Chain names (sha256) kept from sync to sync. */
  private readonly names = new ChainNames();
  lastSync: SyncReport | null = null;
  /** The input handed to iptables-restore by the last sync, per family (only with keepInputs). */
  private readonly lastInput = new Map<IPFamily, readonly Uint8Array[]>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly registry: Registry,
    private readonly opts: IptablesOptions = {},
  ) {
    this.tools = opts.tools ?? null;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    const r = [registry];
    const counter = (name: string, help: string) => (registry.getSingleMetric(name) as Counter) ?? new Counter({ name, help, registers: r });
    const gauge = (name: string, help: string) => (registry.getSingleMetric(name) as Gauge<'table'>) ?? new Gauge({ name, help, labelNames: ['table'], registers: r });
    this.restoreFailures = counter('kubeproxy_sync_proxy_rules_iptables_restore_failures_total', 'Cumulative proxy iptables restore failures');
    this.partialFailures = counter('kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total', 'Cumulative proxy iptables partial restore failures');
    this.rulesTotal = gauge('kubeproxy_sync_proxy_rules_iptables_total', 'Total number of iptables rules owned by kube-proxy');
    this.rulesLast = gauge('kubeproxy_sync_proxy_rules_iptables_last', 'Number of iptables rules written by kube-proxy in last sync');
  }

  /** The backend in use (detected on the first sync). */
  async backend(): Promise<IptablesTools> {
    if (!this.tools) {
      // Detection reads whole rulesets, possibly a previous run's 10,000 Services: a save that
      // timed out would count as an empty backend and could pick the wrong one.
      this.tools = await detectBackend({ forced: process.env.KPROXY_IPTABLES_BACKEND, timeoutMs: saveTimeoutMs(UNKNOWN_TABLE_LINES) });
      this.log.info({ backend: this.tools.backend, reason: this.tools.reason }, `iptables: using the ${this.tools.backend} backend`);
    }
    return this.tools;
  }

  async sync(state: ProxyState, full: boolean): Promise<void> {
    const tools = await this.backend();
    let doFull = full || this.committed === null;
    if (!doFull && Date.now() - this.lastCanaryCheck > (this.opts.canaryCheckMs ?? 60_000)) {
      if (!(await this.canaryPresent(tools))) {
        this.log.info('iptables: the KUBE-PROXY-CANARY chain is gone (tables flushed?): full sync');
        doFull = true;
      }
    }
    const next = new Map<IPFamily, Committed>();
    const counts = { filter: 0, nat: 0, filterLast: 0, natLast: 0 };
    let lines = 0;
    let deletedChains = 0;
    // A full sync reads each family's tables first. Both reads start now and run while the
    // rules are compiled (a restore only ever changes its own family's tables).
    const saves = new Map<IPFamily, Promise<string>>();
    const readFirst = (family: IPFamily) => {
      let p = saves.get(family);
      if (!p) saves.set(family, (p = this.saveAll(tools, family, Math.max(estimatedLines(state, family), this.tableLines.get(family) ?? 0))));
      return p;
    };
    for (const family of FAMILIES) {
      const old = this.committed?.get(family);
      if (doFull || !old) void readFirst(family).catch(() => {});
    }
    // kube-proxy creates its nfacct counters once, when it starts; so does kproxy, on its first
    // sync, while the saves run and the rules are compiled. Rules name only the counters that
    // exist: compiled first for both, again in the rare case that one cannot be made.
    const counters = this.nfacct ? Promise.resolve(this.nfacct) : this.createNfacctCounters(tools);
    const expected = this.nfacct ?? ALL_NFACCT;
    // One restore at a time (iptables-legacy's tools share one lock, and wait for it at most
    // `-w 5` seconds). Every family is compiled first (while the saves and nfacct run), then
    // restored smaller family first, so that its restore runs while the larger one is planned
    // and rendered.
    let restoring: Promise<Error | null> = Promise.resolve(null);
    const waitRestore = async () => {
      const e = await restoring;
      if (e) throw e;
    };
    if (doFull) this.names.startFull();
    try {
      const compileAll = (nfacct: ReadonlySet<string>) =>
        new Map(
          FAMILIES.map((family) => {
            const old = this.committed?.get(family);
            const fc = familyContext(family, this.config, state, nfacct, this.names);
            const familyFull = doFull || !old || old.largeClusterMode !== fc.largeClusterMode;
            return [family, { old, fc, familyFull, rs: familyFull ? compileStreamed(portsOf(state, family), fc) : null }];
          }),
        );
      let compiled = compileAll(expected);
      const nfacct = await counters;
      if (!sameSet(nfacct, expected)) compiled = compileAll(nfacct);
      for (const family of familiesSmallestFirst(state)) {
        const { old, fc, familyFull, rs: full } = compiled.get(family)!;
        compiled.delete(family);
        const plan = familyFull ? this.planFull(full!, fc, await readFirst(family)) : this.planPartial(state, fc, old!);
        const rs = plan.rs;
        const top = topLevelRules(rs);
        const record = familyFull ? await this.routeLocalnetToRecord(tools, fc) : null;
        const rendered = renderFamilyCounted(
          rs,
          {
            write: plan.write,
            deleteChains: plan.deleteChains,
            jumps: plan.jumps,
            canary: plan.canary,
            mangleChains: record ? [record] : undefined,
            previousTop: familyFull ? undefined : old!.top,
            wholeTableCache: tools.backend === 'nft',
          },
          top,
        );
        if (this.opts.keepInputs) this.lastInput.set(family, rendered.parts);
        await waitRestore();
        // Nothing changed in this family (e.g. only the other family's Services did).
        if (rendered.bytes > 0) {
          const input = this.opts.beforeRestore ? [Buffer.from(this.opts.beforeRestore(family, rendered.text))] : rendered.parts;
          // Not awaited here: a failure is kept as a value (never an unhandled rejection) and thrown below.
          restoring = this.restore(tools, family, input, !familyFull, rendered.lines).then(
            () => {
              if (record) this.routeLocalnetRecorded = true;
              return null;
            },
            (e: Error) => e,
          );
        }
        lines += rendered.lines;
        if (familyFull) this.tableLines.set(family, rendered.lines);
        deletedChains += plan.deleteChains.length;
        next.set(family, { ports: new Map(rs.ports.map((p) => [p.key, p])), top: new Map([...top].map(([k, r]) => [k, r.join('\n')])), largeClusterMode: fc.largeClusterMode });
        const n = countRules(rs.ports, top);
        counts.filter += n.filter;
        counts.nat += n.nat;
        counts.filterLast += rendered.filterRules;
        counts.natLast += rendered.natRules;
      }
      await waitRestore();
    } catch (e) {
      this.committed = null; // the next sync is a full one, from what iptables-save shows
      await Promise.allSettled([...saves.values(), restoring, counters]);
      throw e;
    } finally {
      if (doFull) this.names.endFull();
    }
    if (doFull) await this.ensureRouteLocalnet(tools, state);
    this.committed = next;
    this.rulesTotal.set({ table: 'filter' }, counts.filter);
    this.rulesTotal.set({ table: 'nat' }, counts.nat);
    this.rulesLast.set({ table: 'filter' }, counts.filterLast);
    this.rulesLast.set({ table: 'nat' }, counts.natLast);
    this.lastSync = { kind: doFull ? 'full' : 'partial', lines, deletedChains };
    this.log.debug({ ...this.lastSync, backend: tools.backend }, 'iptables synced');
    this.opts.publishRuleset?.({
      mode: 'iptables',
      appliedAt: new Date(),
      generation: state.generation,
      node: state.node.name,
      nodeAddresses: state.node.addresses,
      render: () => compileText(state, this.config),
      chunks: () => compileTextChunks(state, this.config, RENDER_SLICE_PORTS),
    });
    if (this.opts.afterSync) await this.opts.afterSync(state);
  }

  /** The input the last sync handed to the family's restore ('' when none; needs the keepInputs option). */
  inputText(family: IPFamily): string | undefined {
    const parts = this.lastInput.get(family);
    return parts && textOf(parts);
  }

  /** A full sync's plan: `saved` is the family's iptables-save, started before the compile. */
  private planFull(rs: FamilyRuleset, fc: FamilyContext, saved: string) {
    // One iptables-save tells which jump rules are missing and which per-service chains (of an
    // earlier run, or of kube-proxy) nothing uses any more.
    const wanted = jumpRules({ kubeletFirewall: fc.kubeletFirewall });
    const { serviceChains: existing, present, routeLocalnetRecorded } = readSaved(saved, wanted);
    if (fc.family === 'IPv4') this.routeLocalnetRecorded = routeLocalnetRecorded;
    // On a node without kproxy's chains (a first start) there is nothing to compare.
    let deleteChains: string[] = [];
    if (existing.length > 0) {
      const active = new Set<string>();
      for (const p of rs.ports) for (const c of p.chains) active.add(c);
      deleteChains = existing.filter((c) => !active.has(c));
    }
    return { rs, write: undefined, deleteChains, jumps: wanted.filter((j) => !present.has(j)), canary: true };
  }

  /** Makes sure both nfacct counters exist (once per process) and registers their metrics. */
  private async createNfacctCounters(tools: IptablesTools): Promise<ReadonlySet<string>> {
    const have = await ensureNfacctCounters(tools, this.log);
    this.nfacct ??= have;
    registerNfacctMetrics(this.registry, tools, have, this.log);
    return have;
  }

  private planPartial(state: ProxyState, fc: FamilyContext, old: Committed) {
    const ports = new Map(old.ports);
    const written = new Set<string>();
    const deleteChains: string[] = [];
    for (const key of [...new Set([...state.changed, ...state.deleted])].sort()) {
      const before = old.ports.get(key);
      const sp = state.servicePorts.get(key);
      const mine = sp && sp.family === fc.family ? sp : undefined;
      if (!mine && !before) continue;
      const after = mine ? compileServicePort(mine, fc) : undefined;
      if (after) {
        ports.set(key, after);
        written.add(key);
      } else ports.delete(key);
      const keep = new Set(after?.chains ?? []);
      for (const c of before?.chains ?? []) if (!keep.has(c)) deleteChains.push(c);
    }
    // Large clusters, as kube-proxy: a chain nothing jumps to any more is harmless, while -X
    // makes iptables-nft check every rule of the table for references to it. Such chains are
    // left to the next full sync, which finds them in iptables-save and deletes them.
    if (fc.largeClusterMode) deleteChains.length = 0;
    const list = [...ports.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const rs: FamilyRuleset = { fc, ports: list };
    return { rs, write: (p: PortRules) => written.has(p.key), deleteChains, jumps: [] as JumpRule[], canary: false };
  }

  private async restore(tools: IptablesTools, family: IPFamily, input: readonly Uint8Array[], partial: boolean, lines: number): Promise<void> {
    const bin = tools.restore(family);
    let r;
    try {
      r = await runTool(tools, bin, ['-w', '5', '--noflush'], { input, timeoutMs: restoreTimeoutMs(lines, this.timeoutMs) });
    } catch (e) {
      this.restoreFailures.inc();
      if (partial) this.partialFailures.inc();
      throw e;
    }
    if (r.code !== 0) {
      this.restoreFailures.inc();
      if (partial) this.partialFailures.inc();
      throw new IptablesError(`${bin} --noflush failed (exit ${r.code}): ${describeRestoreError(r.stderr, textOf(input))}`, r.stderr, r.code);
    }
  }

  /** The whole ruleset of the family (no `-t`: naming a legacy table that is not there creates it). */
  private async saveAll(tools: IptablesTools, family: IPFamily, expectedLines: number): Promise<string> {
    const r = await runTool(tools, tools.save(family), [], { timeoutMs: saveTimeoutMs(expectedLines, this.timeoutMs) });
    if (r.code !== 0) {
      this.log.warn({ family, stderr: r.stderr.trim() }, 'iptables-save failed: jump rules are inserted again and stale chains are not deleted this time');
      return '';
    }
    return r.stdout;
  }

  private async canaryPresent(tools: IptablesTools): Promise<boolean> {
    this.lastCanaryCheck = Date.now();
    try {
      const r = await runTool(tools, tools.iptables('IPv4'), ['-w', '5', '-t', 'mangle', '-n', '-L', CANARY], { timeoutMs: 30_000 });
      return r.code === 0;
    } catch {
      return false;
    }
  }

  /**
   * The route_localnet record (see ensureRouteLocalnet) this IPv4 full sync writes in its own
   * mangle table rather than in a restore of its own: needed when localhost NodePorts are on,
   * the value is not 1 yet and this sync's iptables-save showed no record.
   */
  private async routeLocalnetToRecord(tools: IptablesTools, fc: FamilyContext): Promise<string | null> {
    if (!fc.localhostNodePorts || this.routeLocalnetRecorded !== false) return null;
    const value = await readSysctl(tools, ROUTE_LOCALNET);
    return /^\d+$/.test(value) && value !== '1' ? routeLocalnetRecord(value) : null;
  }

  /**
   * Localhost NodePorts need the kernel to route 127.0.0.0/8 destinations off the host. Before
   * kproxy first changes the setting, it records the value it found as an empty mangle chain
   * (KUBE-PROXY-ROUTE-LOCALNET-<value>): the record lives and dies with the network namespace
   * it describes, survives kproxy restarts, and `kproxy cleanup` puts the value back from it.
   */
  private async ensureRouteLocalnet(tools: IptablesTools, state: ProxyState): Promise<void> {
    const fc = familyContext('IPv4', this.config, state, this.nfacct ?? undefined);
    if (!fc.localhostNodePorts) return;
    const before = await readSysctl(tools, ROUTE_LOCALNET);
    if (before === '1' && this.routeLocalnetSet) return;
    // Recorded before the change; a record already there (an earlier run: this full sync's
    // iptables-save showed it) means the value was changed after that run set it: the older
    // record is the one to keep.
    if (/^\d+$/.test(before) && before !== '1' && this.routeLocalnetRecorded === false) {
      const input = `*mangle\n:${routeLocalnetRecord(before)} - [0:0]\nCOMMIT\n`;
      const rec = await runTool(tools, tools.restore('IPv4'), ['-w', '5', '--noflush'], { input, timeoutMs: 30_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }));
      if (rec.code !== 0) this.log.warn({ err: rec.stderr.trim() }, 'iptables: cannot record the previous route_localnet value: kproxy cleanup will leave it at 1');
      else this.routeLocalnetRecorded = true;
    }
    const r = await writeSysctl(tools, ROUTE_LOCALNET, '1');
    if (r.code === 0 && this.routeLocalnetSet) return;
    this.routeLocalnetSet = r.code === 0;
    if (r.code === 0) {
      this.log.info(
        { before },
        'iptables: set net.ipv4.conf.all.route_localnet=1 for NodePorts on 127.0.0.1 (turn off with --iptables-localhost-nodeports=false or a --nodeport-addresses without loopback)',
      );
    } else {
      this.log.warn({ err: r.stderr.trim() }, 'iptables: cannot set route_localnet: NodePorts on 127.0.0.1 will not work');
    }
  }

  /** `kproxy cleanup`: removes every KUBE-* chain kproxy writes and its jump rules, both families. */
  async cleanup(): Promise<void> {
    const tools = await this.backend();
    for (const family of FAMILIES) await cleanupFamily(tools, family, this.timeoutMs);
    this.committed = null;
  }

  async close(): Promise<void> {
    // Like kube-proxy, leave the rules in place: traffic keeps flowing while kproxy restarts.
  }
}

/** Rules per table, in total (what the kernel holds now). */
function countRules(ports: readonly PortRules[], top: ReadonlyMap<string, string[]>) {
  let filter = 0;
  let nat = 0;
  for (const [key, rules] of top) {
    if (key.startsWith('filter/')) filter += rules.length;
    else nat += rules.length;
  }
  for (const p of ports) nat += p.ruleCount;
  return { filter, nat };
}

/**
 * Deletes kproxy's jump rules from the built-in chains (every copy), then flushes and deletes
 * its KUBE-* chains in filter, nat and mangle. Chains of other programs are never touched.
 * KUBE-FIREWALL (kubelet may own a chain of that name) goes only while it holds nothing but
 * the rule kproxy writes. On IPv4, route_localnet is put back to the value recorded before
 * kproxy changed it.
 */
export async function cleanupFamily(tools: IptablesTools, family: IPFamily, floorMs?: number): Promise<{ chains: number; jumps: number; routeLocalnet: string | null } | null> {
  // Look first (the whole ruleset, not `-t TABLE`: naming a legacy table that does not exist
  // creates it), then one restore: delete the jump rules found, flush and delete the chains.
  // Nothing tells how large the table is before reading it: assume a very large one.
  const r = await runTool(tools, tools.save(family), [], { timeoutMs: saveTimeoutMs(UNKNOWN_TABLE_LINES, floorMs) });
  if (r.code !== 0) return null;
  const jumps = jumpRules({ kubeletFirewall: family === 'IPv4' });
  const byTable = new Map<string, { chains: string[]; deletes: string[] }>();
  let table = '';
  let firewall: 'absent' | 'ours' | 'foreign' = 'absent';
  let routeLocalnet: string | null = null;
  const firewallJumps: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    const t = byTable.get(table) ?? { chains: [], deletes: [] };
    byTable.set(table, t);
    if (line.startsWith(':KUBE-')) {
      const name = line.slice(1, line.indexOf(' '));
      const rec = table === 'mangle' ? /^KUBE-PROXY-ROUTE-LOCALNET-(\d+)$/.exec(name) : null;
      if (rec) routeLocalnet = rec[1];
      if (isOwned(name, table) || rec) t.chains.push(name);
      if (table === 'filter' && name === KUBELET_FIREWALL) firewall = 'ours';
    } else if (table === 'filter' && line.startsWith(`-A ${KUBELET_FIREWALL} `)) {
      if (!line.includes('--comment "block incoming localnet connections"') || !line.endsWith(' -j DROP')) firewall = 'foreign';
    } else if (line.startsWith('-A ') && jumps.some((j) => j.table === table && isJumpRule(line, j))) {
      (line.endsWith(` -j ${KUBELET_FIREWALL}`) ? firewallJumps : t.deletes).push('-D' + line.slice(2));
    }
  }
  if (firewall === 'ours') {
    const t = byTable.get('filter')!;
    t.deletes.push(...firewallJumps);
    t.chains.push(KUBELET_FIREWALL);
  }
  const out: string[] = [];
  const removed = { chains: 0, jumps: 0, routeLocalnet };
  for (const [t, { chains, deletes }] of byTable) {
    if (chains.length === 0 && deletes.length === 0) continue;
    // Line by line: spreading 100,000 chain names into one push() overflows the stack.
    out.push(`*${t}`);
    for (const d of deletes) out.push(d);
    for (const c of chains) out.push(`:${c} - [0:0]`);
    for (const c of chains) out.push(`-X ${c}`);
    out.push('COMMIT');
    removed.chains += chains.length;
    removed.jumps += deletes.length;
  }
  if (out.length === 0) return null;
  const input = out.join('\n') + '\n';
  const res = await runTool(tools, tools.restore(family), ['-w', '5', '--noflush'], { input, timeoutMs: restoreTimeoutMs(out.length, floorMs) });
  if (res.code !== 0) throw new IptablesError(`${tools.restore(family)} (cleanup) failed: ${describeRestoreError(res.stderr, input)}`, res.stderr, res.code);
  if (routeLocalnet !== null) {
    const s = await writeSysctl(tools, ROUTE_LOCALNET, routeLocalnet);
    if (s.code !== 0) throw new IptablesError(`cannot put ${ROUTE_LOCALNET} back to ${routeLocalnet}: ${s.stderr.trim()}`, s.stderr, s.code);
  }
  return removed;
}

const ROUTE_LOCALNET = 'net.ipv4.conf.all.route_localnet';

/**
 * A sysctl's value ('' when unreadable). Without a command prefix (kproxy in the node's own
 * namespace) straight from /proc (src/util/sysctl.ts); behind one, through the sysctl command.
 */
async function readSysctl(tools: IptablesTools, key: string): Promise<string> {
  if (tools.prefix.length === 0) return (await readProcSysctl(key)) ?? '';
  const r = await runTool(tools, 'sysctl', ['-n', key], { timeoutMs: 10_000 }).catch(() => null);
  return r?.code === 0 ? r.stdout.trim() : '';
}

async function writeSysctl(tools: IptablesTools, key: string, value: string): Promise<{ code: number | null; stderr: string }> {
  if (tools.prefix.length === 0) {
    return writeProcSysctl(key, value).then(
      () => ({ code: 0, stderr: '' }),
      (e: Error) => ({ code: -1, stderr: e.message }),
    );
  }
  return runTool(tools, 'sysctl', ['-qw', `${key}=${value}`], { timeoutMs: 10_000 }).catch((e: Error) => ({ code: -1, stderr: e.message }));
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a.size === b.size && [...a].every((x) => b.has(x));

/** The families in the order they are synced: the one with fewer service ports first (IPv4 on a tie). */
function familiesSmallestFirst(state: ProxyState): IPFamily[] {
  let v6 = 0;
  for (const sp of state.servicePorts.values()) if (sp.family === 'IPv6') v6++;
  return v6 * 2 < state.servicePorts.size ? ['IPv6', 'IPv4'] : ['IPv4', 'IPv6'];
}

/** Roughly the lines a family's full sync writes (the iptables-save deadline before compiling). */
function estimatedLines(state: ProxyState, family: IPFamily): number {
  let n = 0;
  for (const sp of state.servicePorts.values()) if (sp.family === family) n += 8 + 3 * sp.allReachableEndpoints.length;
  return n;
}
/** The mangle chain that records route_localnet's value before kproxy set it to 1. */
export const routeLocalnetRecord = (value: string) => `KUBE-PROXY-ROUTE-LOCALNET-${value}`;

const OWNED: Record<string, Set<string>> = {
  filter: new Set(['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL', CANARY]),
  nat: new Set(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', CANARY]),
  mangle: new Set([CANARY]),
};

/** kproxy's chains: the static ones above and the per-service ones; never kubelet's KUBE-FIREWALL. */
function isOwned(name: string, table: string): boolean {
  return OWNED[table]?.has(name) || (table === 'nat' && isServiceChain(name));
}

export type { FamilyContext };
