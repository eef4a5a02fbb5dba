// The IPVS applier. Per sync, in this order, so that nothing refers to what does not exist:
//  1. ipsets whose members changed: `ipset restore`, each set filled aside and swapped in;
//  2. the fixed iptables rules: `iptables-restore --noflush` of kproxy's KUBE-* chains (at
//     start and on every full sync), and the jumps to them from the built-in chains;
//  3. addresses new on kube-ipvs0 (`ip -batch`), then the IPVS table change as one
//     `ipvsadm -R` batch (see plan.ts), then addresses that left;
//  4. conntrack entries of UDP real servers that left.
// A full sync (at start and every syncPeriod) compares with what the kernel actually holds
// (`ipvsadm -L -n`, `ip addr`); a partial one with what kproxy last programmed, so only what
// changed is touched. IPVS has no transactions (neither ipvsadm nor its netlink API): when a
// command fails, the sync throws and the next one, full, starts again from the kernel's table.
// Draining real servers are checked every few seconds and deleted once they have no
// connections left.
import { Counter } from 'prom-client';
import { cidrContains, parseCIDR, type IPFamily } from '../../api/ip.js';
import type { Config } from '../../config/types.js';
import type { ProxyState } from '../../model/types.js';
import type { Logger } from '../../util/log.js';
import { writeSysctl } from '../../util/sysctl.js';
import type { Dataplane } from '../dataplane.js';
import type { DataplaneContext } from '../dataplane.js';
import { compile, type IpvsRuleset } from './compile.js';
import { exec as defaultExec, must, type Exec } from './exec.js';
import { renderIpsetRestore, type SetKey } from './ipsets.js';
import { missingJumps, withJumps } from './iptables.js';
import { parseList } from './ipvsadm.js';
import { planTable, type Terminating } from './plan.js';
import { rulesText } from './rules.js';
import { DUMMY_INTERFACE, serviceId, type KernelVirtualService, type VirtualService } from './table.js';

export interface IpvsOptions {
  exec?: Exec;
  /** How long a leaving TCP real server may keep its connections (default 5 minutes). */
  graceMs?: number;
  /** How often draining real servers are checked (default 2 s). */
  drainCheckMs?: number;
  /** Where the /rules page and `kproxy trace --live` find what was applied. */
  publishRuleset?: DataplaneContext['publishRuleset'];
}

export class IpvsDataplane implements Dataplane {
  readonly mode = 'ipvs';
  private readonly run: Exec;
  private readonly graceMs: number;
  private readonly drainCheckMs: number;
  private started = false;
  /** kproxy's view of the IPVS table; null: read the kernel's next time. */
  private table: Map<string, KernelVirtualService> | null = null;
  private terminating = new Map<string, Terminating>();
  private desired: readonly VirtualService[] = [];
  private sets = new Map<IPFamily, Map<SetKey, string>>();
  private iptables = new Map<IPFamily, string>();
  private addresses: Set<string> | null = null;
  private readonly warned = new Set<string>();
  private lock: Promise<unknown> = Promise.resolve();
  private drainTimer: NodeJS.Timeout | null = null;
  private readonly excludeCIDRs;
  private readonly syncFailures: Counter;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    registry: DataplaneContext['metrics']['registry'],
    private readonly opts: IpvsOptions = {},
  ) {
    this.run = opts.exec ?? defaultExec;
    this.graceMs = opts.graceMs ?? 5 * 60_000;
    this.drainCheckMs = opts.drainCheckMs ?? 2000;
    this.excludeCIDRs = config.ipvs.excludeCIDRs.map((c) => parseCIDR(c)).filter((c) => c !== null);
    const name = 'kubeproxy_sync_proxy_rules_ipvs_sync_failures_total';
    this.syncFailures = (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help: 'Cumulative proxy IPVS sync failures', registers: [registry] });
  }

  sync(state: ProxyState, full: boolean): Promise<void> {
    return this.locked(() => this.syncLocked(state, full));
  }

  async close(): Promise<void> {
    if (this.drainTimer) clearInterval(this.drainTimer);
    this.drainTimer = null;
    await this.lock.catch(() => {});
  }

  private locked<T>(f: () => Promise<T>): Promise<T> {
    const p = this.lock.then(f, f);
    this.lock = p.catch(() => {});
    return p;
  }

  private excluded = (address: string) => this.excludeCIDRs.some((c) => cidrContains(c, address));

  private async syncLocked(state: ProxyState, full: boolean): Promise<void> {
    const ruleset = compile(state, this.config);
    for (const w of ruleset.warnings) {
      if (this.warned.has(w)) continue;
      this.warned.add(w);
      this.log.warn(w);
    }
    try {
      if (!this.started) await this.setUpNode();
      this.started = true;
      await this.applySets(ruleset, full);
      await this.applyIptables(ruleset, full);
      await this.applyTable(ruleset, full);
    } catch (e) {
      this.syncFailures.inc();
      this.table = null;
      this.addresses = null;
      this.sets.clear();
      this.iptables.clear();
      throw e;
    }
    this.scheduleDrainCheck();
    // What the kernel now holds is the compiled state (draining real servers aside, which
    // stay at weight 0 until they go): published as `kproxy rules` prints it.
    this.opts.publishRuleset?.({
      mode: 'ipvs',
      appliedAt: new Date(),
      generation: state.generation,
      node: state.node.name,
      nodeAddresses: state.node.addresses,
      render: () => rulesText(state, this.config),
    });
  }

  /** Once: kube-proxy's IPVS sysctls, the IPVS timeouts, and the dummy interface. */
  private async setUpNode(): Promise<void> {
    const sysctls: [string, string][] = [
      ['net.ipv4.vs.conntrack', '1'], // conntrack for IPVS connections: the masquerade rules need it
      ['net.ipv4.vs.expire_nodest_conn', '1'], // packets of a deleted real server's connections are dropped at once
      ['net.ipv4.vs.expire_quiescent_template', '1'], // persistence templates of weight-0 servers expire
      ['net.ipv4.ip_forward', '1'],
    ];
    if (this.config.ipvs.strictARP) sysctls.push(['net.ipv4.conf.all.arp_ignore', '1'], ['net.ipv4.conf.all.arp_announce', '2']);
    for (const [k, v] of sysctls) {
      await writeSysctl(k, v).catch((e: Error) => this.log.warn({ sysctl: k, err: e.message }, 'ipvs: cannot set sysctl'));
    }
    const { tcpTimeoutMs, tcpFinTimeoutMs, udpTimeoutMs } = this.config.ipvs;
    if (tcpTimeoutMs || tcpFinTimeoutMs || udpTimeoutMs) {
      const s = (ms: number) => String(Math.round(ms / 1000)); // 0 leaves that timeout as it is
      await must(this.run, 'ipvsadm', ['--set', s(tcpTimeoutMs), s(tcpFinTimeoutMs), s(udpTimeoutMs)]);
    }
    const link = await this.run('ip', ['link', 'show', 'dev', DUMMY_INTERFACE]);
    if (link.code !== 0) await must(this.run, 'ip', ['link', 'add', DUMMY_INTERFACE, 'type', 'dummy']);
  }

  private async applySets(ruleset: IpvsRuleset, full: boolean): Promise<void> {
    for (const fr of ruleset.families) {
      if (!fr.iptables) continue;
      const old = this.sets.get(fr.family);
      const now = new Map<SetKey, string>();
      const changed = new Set<SetKey>();
      for (const [k, members] of fr.sets) {
        const text = [...members].sort().join(' ');
        now.set(k, text);
        if (full || !old || old.get(k) !== text) changed.add(k);
      }
      const input = renderIpsetRestore(fr.family, fr.sets, changed);
      if (input) await must(this.run, 'ipset', ['restore'], input);
      this.sets.set(fr.family, now);
    }
  }

  private async applyIptables(ruleset: IpvsRuleset, full: boolean): Promise<void> {
    for (const fr of ruleset.families) {
      if (!fr.iptables) continue;
      const v6 = fr.family === 'IPv6';
      if (!full && this.iptables.get(fr.family) === fr.iptables) continue;
      // The jumps from the built-in chains go into the same restore, inserted first, unless
      // iptables-save shows them already (one read, one write: execs are what a sync costs).
      const bin = v6 ? 'ip6tables' : 'iptables';
      const saved = await must(this.run, `${bin}-save`, []);
      await must(this.run, `${bin}-restore`, ['--noflush'], withJumps(fr.iptables, missingJumps(saved)));
      this.iptables.set(fr.family, fr.iptables);
    }
  }

  private async kernelAddresses(): Promise<Set<string>> {
    const out = await must(this.run, 'ip', ['-o', 'addr', 'show', 'dev', DUMMY_INTERFACE]);
    const have = new Set<string>();
    for (const m of out.matchAll(/\binet6? ([0-9a-fA-F.:]+)\//g)) have.add(m[1]);
    return have;
  }

  private async applyTable(ruleset: IpvsRuleset, full: boolean): Promise<void> {
    const wantAddrs = new Set(ruleset.families.flatMap((f) => f.addresses));
    const haveAddrs = full || !this.addresses ? await this.kernelAddresses() : this.addresses;
    const addrCmd = (verb: 'add' | 'del', a: string) => `address ${verb} ${a}/${a.includes(':') ? '128' : '32'} dev ${DUMMY_INTERFACE}${verb === 'add' && a.includes(':') ? ' nodad' : ''}`;
    const adds = [...wantAddrs].filter((a) => !haveAddrs.has(a)).map((a) => addrCmd('add', a));
    if (adds.length) await must(this.run, 'ip', ['-batch', '-'], adds.join('\n') + '\n');

    const desired = ruleset.families.flatMap((f) => f.services);
    this.desired = desired;
    await this.applyPlan(desired, full || !this.table);

    const dels = [...haveAddrs].filter((a) => !wantAddrs.has(a) && !this.excluded(a)).map((a) => addrCmd('del', a));
    if (dels.length) await must(this.run, 'ip', ['-batch', '-'], dels.join('\n') + '\n');
    this.addresses = wantAddrs;
  }

  /** Diffs against the kernel's table (fresh) or kproxy's own copy, and applies the change. */
  private async applyPlan(desired: readonly VirtualService[], fresh: boolean): Promise<void> {
    const kernel = fresh || !this.table ? await this.readTable() : this.table;
    const plan = planTable(desired, kernel, this.terminating, { now: Date.now(), graceMs: this.graceMs, fresh, excluded: this.excluded });
    if (plan.commands.length) {
      // ipvsadm -R carries on after a failed line and exits 0: its complaints are the signal.
      await must(this.run, 'ipvsadm', ['-R'], plan.commands.join('\n') + '\n', { stderrIsError: true });
      this.log.debug({ commands: plan.commands.length }, 'ipvs table changed');
    }
    this.table = plan.table;
    this.terminating = plan.terminating;
    for (const { vs, rs } of plan.udpRemoved) {
      // Clears the flows NATed to the removed server; exit 1 means "none", which is fine.
      await this.run('conntrack', ['-D', '-f', vs.address.includes(':') ? 'ipv6' : 'ipv4', '-p', 'udp', '--orig-dst', vs.address, '--orig-port-dst', String(vs.port), '--reply-src', rs.address]);
    }
  }

  private async readTable(): Promise<Map<string, KernelVirtualService>> {
    const list = parseList(await must(this.run, 'ipvsadm', ['-L', '-n']));
    return new Map(list.map((vs) => [serviceId(vs), vs]));
  }

  /** While real servers drain, looks at their connection counts every few seconds. */
  private scheduleDrainCheck(): void {
    if (this.terminating.size === 0 || this.drainTimer) return;
    this.drainTimer = setInterval(() => {
      void this.locked(async () => {
        if (this.terminating.size > 0 && this.table) await this.applyPlan(this.desired, true);
        if (this.terminating.size === 0 && this.drainTimer) {
          clearInterval(this.drainTimer);
          this.drainTimer = null;
        }
      }).catch((e: Error) => this.log.warn({ err: e.message }, 'ipvs: checking draining real servers failed; the next sync retries'));
    }, this.drainCheckMs);
    this.drainTimer.unref?.();
  }
}
