// The ebpf applier: the maps (pinned, so a restarted kproxy picks them up and traffic flows
// while it is away), the programs attached to the workloads' cgroup, and the incremental
// Service tables. Programs are re-loaded at every start and attached in place of the
// previous ones (one atomic replacement per attach type).
import { closeSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BpfMap } from '../../bpf/map.js';
import { checkCgroupDir, ensureBpffs } from '../../bpf/mounts.js';
import { probeBpf, probeHelper, probeSockAddr } from '../../bpf/probe.js';
import { attachCgroup, BpfProg, openCgroup } from '../../bpf/prog.js';
import type { ProxyState } from '../../model/types.js';
import { ConfigError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { Dataplane } from '../dataplane.js';
import { clusterIPEntry, compile, compileServicePort, type SocketService } from './compile.js';
import { FAMILIES, MAP_ROLES, mapSpec, type Family } from './layout.js';
import { pinDir } from './pins.js';
import { balancer, PROGRAMS, reverse } from './programs.js';
import { ServiceTables, type FamilyMaps } from './tables.js';

export interface EbpfOptions {
  cgroupRoot: string;
  log: Logger;
}

export class EbpfKernel {
  private constructor(
    readonly tables: ServiceTables,
    /** The maps by family and role (what the /rules page decodes). */
    readonly maps: Record<Family, FamilyMaps>,
    readonly pins: string,
    private readonly opened: BpfMap[],
    readonly setRetval: boolean,
  ) {}

  /** Checks the machine (feature probes), opens or creates the pinned maps, loads and attaches the programs. */
  static open(opts: EbpfOptions): EbpfKernel {
    if (!opts.cgroupRoot) throw new ConfigError('--bpf-cgroup-root', 'required in ebpf mode: the cgroup v2 directory holding the workloads whose sockets are load-balanced');
    const cg = checkCgroupDir(opts.cgroupRoot);
    if ('error' in cg) throw new ConfigError('--bpf-cgroup-root', cg.error);
    const why = probeBpf() ?? probeSockAddr('CGROUP_INET4_CONNECT') ?? probeHelper('CGROUP_INET4_CONNECT', 'get_netns_cookie') ?? probeHelper('CGROUP_INET4_CONNECT', 'get_socket_cookie');
    if (why) throw new ConfigError('--proxy-mode', `ebpf mode cannot run here: ${why}`);
    const setRetval = probeHelper('CGROUP_INET4_CONNECT', 'set_retval') === null;
    if (!setRetval) opts.log.warn({}, 'this kernel does not let cgroup programs choose the error (bpf_set_retval): connect() to a Service without endpoints fails with EPERM instead of ECONNREFUSED');

    const fs = ensureBpffs();
    const pins = pinDir(fs.path, cg.dir);
    mkdirSync(pins, { recursive: true, mode: 0o700 });
    const opened: BpfMap[] = [];
    const byFamily = {} as Record<Family, FamilyMaps>;
    let adopted = 0;
    for (const f of FAMILIES) {
      const fm = {} as FamilyMaps;
      for (const role of MAP_ROLES) {
        const spec = mapSpec(role, f);
        const path = join(pins, spec.name);
        let m: BpfMap;
        if (existsSync(path)) {
          m = BpfMap.open(path, spec);
          adopted++;
        } else {
          m = BpfMap.create(spec);
          m.pin(path);
        }
        opened.push(m);
        fm[role] = m;
      }
      byFamily[f] = fm;
    }
    const tables = new ServiceTables(byFamily);
    const kept = adopted > 0 ? tables.adopt() : 0;
    const fdOf = new Map(opened.map((m) => [m.spec.name, m.fd]));
    const cgFd = openCgroup(cg.dir);
    try {
      for (const def of PROGRAMS) {
        const program = def.kind === 'balancer' ? balancer(def.family, { setRetval }) : reverse(def.family);
        const prog = BpfProg.load({ name: def.name, type: 'CGROUP_SOCK_ADDR', attachType: def.attachType, program }, (n) => fdOf.get(n)!);
        try {
          attachCgroup(cgFd, prog);
          const path = join(pins, def.name);
          if (existsSync(path)) unlinkSync(path);
          prog.pin(path);
        } finally {
          prog.close();
        }
      }
    } finally {
      closeSync(cgFd);
    }
    opts.log.info(
      { cgroup: cg.dir, pins, adoptedServices: kept },
      `ebpf: programs attached to ${cg.dir}: Service traffic of its processes is load-balanced at connect()/sendmsg(); maps pinned in ${pins}`,
    );
    return new EbpfKernel(tables, byFamily, pins, opened, setRetval);
  }

  close(): void {
    for (const m of this.opened) m.close();
  }
}

/** The socket-level half of the ebpf dataplane. */
export class EbpfDataplane implements Dataplane {
  readonly mode = 'ebpf';
  private synced = false;

  constructor(
    private readonly kernel: { tables: ServiceTables; close(): void },
    private readonly northSouth: Dataplane | null,
    private readonly northSouthState: (s: ProxyState) => ProxyState,
    /** Called after each successful sync (publishes the /rules page). */
    private readonly afterSync: (s: ProxyState) => void = () => {},
  ) {}

  async sync(state: ProxyState, full: boolean): Promise<void> {
    const t = this.kernel.tables;
    if (full || !this.synced) {
      const entries = compile(state);
      this.owners.clear();
      this.ownerOf.clear();
      for (const e of entries) if (e.proto !== 'ANY') this.own(e.key, anyKeyOf(e));
      t.applyAll(entries);
    } else {
      const changed: SocketService[] = [];
      const removed: string[] = [...state.deleted];
      const touched = new Map<string, SocketService>();
      for (const key of state.deleted) this.disown(key, touched);
      for (const key of state.changed) {
        const sp = state.servicePorts.get(key);
        const e = sp ? compileServicePort(sp) : null;
        this.disown(key, touched);
        if (e && sp) {
          changed.push(e);
          const any = clusterIPEntry(e.family, e.ip, `${sp.namespace}/${sp.name}`);
          this.own(key, any.key);
          touched.set(any.key, any);
        } else removed.push(key);
      }
      // A ClusterIP's "other ports" element lives while one of its ports does.
      for (const [k, any] of touched) {
        if ((this.owners.get(k)?.size ?? 0) > 0) changed.push(any);
        else removed.push(k);
      }
      t.applyChanges(changed, removed);
    }
    this.synced = true;
    if (this.northSouth) await this.northSouth.sync(this.northSouthState(state), full);
    this.afterSync(state);
  }

  /** ClusterIP element key → the service port keys that use that ClusterIP. */
  private readonly owners = new Map<string, Set<string>>();
  private readonly ownerOf = new Map<string, string>();

  private own(portKey: string, anyKey: string): void {
    let set = this.owners.get(anyKey);
    if (!set) this.owners.set(anyKey, (set = new Set()));
    set.add(portKey);
    this.ownerOf.set(portKey, anyKey);
  }

  private disown(portKey: string, touched: Map<string, SocketService>): void {
    const anyKey = this.ownerOf.get(portKey);
    if (anyKey === undefined) return;
    this.ownerOf.delete(portKey);
    this.owners.get(anyKey)?.delete(portKey);
    if (!touched.has(anyKey)) {
      const [family, ip] = anyKey.slice('clusterIP:'.length).split(/\/(.*)/s);
      touched.set(anyKey, clusterIPEntry(family as Family, ip, ''));
    }
  }

  async close(): Promise<void> {
    this.kernel.close();
    await this.northSouth?.close?.();
  }
}

const anyKeyOf = (e: SocketService) => clusterIPEntry(e.family, e.ip, '').key;
