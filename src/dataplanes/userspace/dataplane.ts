// The userspace dataplane: a TCP/UDP proxy in this process. sync() compiles the ProxyState
// into listeners (compile.ts) and reconciles the open sockets with them: new listeners open,
// old ones close, and listeners whose address stays only get their route replaced, so a
// change to one Service never disturbs another.
import os from 'node:os';
import { settingName } from '../../config/load.js';
import { listenersText } from './listeners-text.js';
import { ConfigError, formatObjectError } from '../../util/errors.js';
import type { ProxyState } from '../../model/types.js';
import type { Dataplane } from '../dataplane.js';
import type { DataplaneContext } from '../dataplane.js';
import { AddressManager, localAddresses } from './addresses.js';
import { balancerInput, ServiceBalancer } from './balancer.js';
import { compile, type ListenerSpec } from './compile.js';
import { EndpointHealth } from './health.js';
import { UserspaceMetrics } from './metrics.js';
import { parseRanges, type Route } from './route.js';
import { isSchedulerName } from './schedulers/index.js';
import { TcpListener } from './tcp.js';
import { UdpListener } from './udp.js';
import { WorkerPool } from './workers.js';
import type { SpliceEngine } from './splice/engine.js';
import { requestedBulkPath, startBulkPath, type BulkPath } from './splice/choose.js';

/** How long connections of a removed Service may go on before they are closed. */
export const SERVICE_GRACE_MS = 30_000;

export interface UserspaceOptions {
  /** Grace period for connections of a removed Service. */
  serviceGraceMs?: number;
  /** Dial timeouts of the successive tries. */
  dialTimeoutsMs?: readonly number[];
  /** Passive ejection of a failed backend. */
  ejectionMs?: number;
  /** Worker processes sharing the TCP listeners (workers.ts); default $KPROXY_USERSPACE_WORKERS, else --userspace-workers. */
  workers?: number;
  /** How TCP bytes are copied; default $KPROXY_USERSPACE_BULK, else auto (splice where available). */
  bulkPath?: BulkPath | 'auto';
  /** Who adds service addresses to the interface (tests pass one with a counting runner). */
  addresses?: AddressManager;
}

interface Open {
  spec: ListenerSpec;
  listener: TcpListener | UdpListener;
}

export class UserspaceDataplane implements Dataplane {
  readonly mode = 'userspace';
  readonly metrics: UserspaceMetrics;
  private readonly balancers = new Map<string, ServiceBalancer>();
  private readonly open = new Map<string, Open>();
  /** Listeners that failed to open, with the error last reported (reported again only if it changes). */
  private readonly failed = new Map<string, string>();
  private readonly reported = new Set<string>();
  private readonly health: EndpointHealth;
  private readonly addresses: AddressManager;
  private readonly sweeper: NodeJS.Timeout;
  private readonly pool: WorkerPool | null;
  private readonly engine: SpliceEngine | null;

  constructor(
    private readonly ctx: DataplaneContext,
    private readonly opts: UserspaceOptions = {},
  ) {
    const s = ctx.config.ipvs.scheduler;
    if (s !== '' && !isSchedulerName(s)) {
      throw new ConfigError(settingName(ctx.config, 'ipvs.scheduler', 'ipvs-scheduler'), `unknown scheduler "${s}" for the userspace mode (expected rr, random, lc, sed, nq, dh, sh, maglev or p2c)`);
    }
    this.addresses = opts.addresses ?? new AddressManager();
    this.metrics = new UserspaceMetrics(ctx.metrics.registry);
    this.health = new EndpointHealth(opts.ejectionMs);
    this.sweeper = setInterval(() => {
      const now = Date.now();
      this.health.sweep(now);
      for (const b of this.balancers.values()) b.sweep(now);
    }, 10_000);
    this.sweeper.unref();
    const bulk = opts.bulkPath ?? requestedBulkPath();
    this.engine = startBulkPath(bulk, ctx.log);
    const workers = opts.workers ?? workerCount(process.env.KPROXY_USERSPACE_WORKERS ?? ctx.config.userspaceWorkers ?? 'auto', this.engine ? 2 : 1);
    const env: Record<string, string> = { KPROXY_LOG_V: String(ctx.config.logVerbosity) };
    env.KPROXY_USERSPACE_BULK = this.engine ? 'splice' : 'js'; // the workers copy as the primary does
    if (opts.dialTimeoutsMs) env.KPROXY_DIAL_TIMEOUTS = opts.dialTimeoutsMs.join(',');
    this.pool = workers > 0 ? new WorkerPool(workers, this.metrics, ctx.log, env) : null;
  }

  async sync(state: ProxyState, _full: boolean): Promise<void> {
    // Every sync reconciles everything: the work is a map diff, and the sockets that stay
    // are not touched, so a partial sync would save little.
    const locals = localAddresses();
    const plan = compile(state, {
      scheduler: this.ctx.config.ipvs.scheduler,
      nodePortAddresses: this.ctx.config.nodePortAddresses,
      localAddresses: locals,
    });
    for (const w of plan.warnings) this.reportOnce(formatObjectError(w));

    // 1. balancers: new endpoints take effect for new connections only
    const inputs = new Map([...plan.servicePorts].map(([key, { sp }]) => [key, balancerInput(sp, state.node.podCIDRs)]));
    for (const [key, { scheduler }] of plan.servicePorts) {
      const b = this.balancers.get(key);
      const input = inputs.get(key)!;
      if (b) b.update(input, scheduler);
      else this.balancers.set(key, new ServiceBalancer(input, scheduler, this.health));
    }

    // 2. listeners that go, or whose protocol/address now belongs to another service port
    const grace = this.opts.serviceGraceMs ?? SERVICE_GRACE_MS;
    for (const [key, o] of this.open) {
      const spec = plan.listeners.get(key);
      if (spec) {
        const route = this.routeFor(spec);
        o.listener.route = route;
        o.spec = spec;
        if (o.listener instanceof UdpListener) o.listener.dropStale();
        continue;
      }
      this.open.delete(key);
      void this.closeListener(o, grace);
    }
    for (const key of this.failed.keys()) if (!plan.listeners.has(key)) this.failed.delete(key);
    for (const key of this.balancers.keys()) if (!plan.servicePorts.has(key)) this.balancers.delete(key);

    // 3. new listeners (and ones that failed before: a port may have been freed since)
    //    The addresses they need are added first, all in one `ip -batch` run.
    const localSet = new Set(locals);
    const toOpen = [...plan.listeners].filter(([key]) => !this.open.has(key)).map(([, spec]) => spec);
    const addressErrors = await this.addresses.acquireAll(
      toOpen.map((s) => s.ip),
      localSet,
    );
    const opening = toOpen.map((spec) => this.openListener(spec, addressErrors.get(spec.ip)));
    await Promise.all(opening);
    this.metrics.live.listeners = this.open.size;
    const failed = new Map(this.failed);
    this.ctx.publishRuleset?.({
      mode: 'userspace',
      appliedAt: new Date(),
      generation: state.generation,
      node: state.node.name,
      nodeAddresses: state.node.addresses,
      render: () => listenersText(plan, failed),
    });

    if (this.pool) {
      const shared = new Map([...plan.servicePorts].map(([key, { scheduler }]) => [key, { input: inputs.get(key)!, scheduler, balancer: this.balancers.get(key)! }]));
      const open = new Map([...this.open].map(([key, o]) => [key, { spec: o.spec, server: o.listener instanceof TcpListener ? o.listener.server : null }]));
      this.pool.update(shared, open, grace);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.pool?.stop();
    const closing = [...this.open.values()].map((o) => this.closeListener(o, 0));
    this.open.clear();
    await Promise.all(closing);
    await this.engine?.stop();
    await this.addresses.close();
  }

  /** Resolves once the worker processes (if any) accept on the shared sockets' next update. */
  async workersReady(): Promise<void> {
    await this.pool?.ready;
  }

  /** Resolves once the chosen path takes connections (the splice thread starts in ~0.2 s; JavaScript copies until then). */
  async bulkPathReady(): Promise<BulkPath> {
    if (this.engine) await this.engine.whenReady();
    return this.bulkPath;
  }

  /** Which path copies TCP bytes in this process. */
  get bulkPath(): BulkPath {
    return this.engine?.alive ? 'splice' : 'js';
  }

  /** Connections the splice path took in this process: straight from accept (the pump dialled) or as a connected pair. */
  bulkPathCounts(): { dialled: number; adopted: number } {
    return { dialled: this.engine?.dialled ?? 0, adopted: this.engine?.adopted ?? 0 };
  }

  /** The worker processes' ids and how often one was started again (tests, status pages). */
  workers(): { pids: number[]; restarts: number } {
    return { pids: this.pool?.pids() ?? [], restarts: this.pool?.restarts ?? 0 };
  }

  /** Listening sockets now, by key "PROTOCOL/ip/port" (tests, status pages). */
  listeners(): string[] {
    return [...this.open.keys()].sort();
  }

  balancer(servicePortKey: string): ServiceBalancer | undefined {
    return this.balancers.get(servicePortKey);
  }

  private routeFor(spec: ListenerSpec): Route {
    return { balancer: this.balancers.get(spec.servicePort)!, kind: spec.kind, sourceRanges: parseRanges(spec.sourceRanges) };
  }

  /** Opens a listener whose address acquireAll made ready, or could not (`addressError`). */
  private async openListener(spec: ListenerSpec, addressError: string | undefined): Promise<void> {
    const { log, config } = this.ctx;
    const route = this.routeFor(spec);
    const listener =
      spec.protocol === 'TCP'
        ? new TcpListener(route, this.metrics, log, this.opts.dialTimeoutsMs, undefined, this.engine)
        : new UdpListener(route, spec.ip, config.udpIdleTimeoutMs, this.metrics, log);
    if (addressError !== undefined) {
      if (listener instanceof UdpListener) listener.close();
      return this.openFailed(spec, addressError);
    }
    try {
      await listener.listen(spec.ip, spec.port);
    } catch (e) {
      await this.addresses.release(spec.ip);
      if (listener instanceof UdpListener) listener.close();
      return this.openFailed(spec, bindHint(e as NodeJS.ErrnoException, spec));
    }
    this.open.set(spec.key, { spec, listener });
    this.failed.delete(spec.key);
    log.debug({ listener: spec.key, service: route.balancer.servicePortName }, 'listening');
  }

  private openFailed(spec: ListenerSpec, reason: string): void {
    if (this.failed.get(spec.key) === reason) return;
    this.failed.set(spec.key, reason);
    const name = this.balancers.get(spec.servicePort)?.servicePortName ?? spec.servicePort;
    this.ctx.log.error(`Service ${name}: cannot listen on ${spec.protocol} ${spec.ip} port ${spec.port}: ${reason}`);
  }

  /** Closes a listener; its address goes once its last connection has ended. */
  private closeListener(o: Open, graceMs: number): Promise<void> {
    let ended: Promise<void>;
    if (o.listener instanceof TcpListener) ended = o.listener.close(graceMs);
    else {
      o.listener.close();
      ended = Promise.resolve();
    }
    return ended.then(() => this.addresses.release(o.spec.ip));
  }

  private reportOnce(line: string): void {
    if (this.reported.has(line)) return;
    this.reported.add(line);
    this.ctx.log.warn(line);
  }
}

/** "auto": one worker per core beyond the first (the primary accepts too), so none on one core. */
/**
 * Worker processes for --userspace-workers. `auto`: one process per `threadsPerProcess` cores
 * beyond the primary, at most 8 — with the splice path each process keeps two cores busy (its
 * main thread and its pump thread), on the JavaScript path one.
 */
export function workerCount(v: number | string, threadsPerProcess = 1): number {
  if (v === 'auto') return Math.min(Math.max(Math.floor(os.availableParallelism() / threadsPerProcess) - 1, 0), 8);
  const n = Number(v);
  // The flag is checked when the configuration loads: a bad value here came from the environment.
  if (v === '' || !Number.isInteger(n) || n < 0 || n > 64) throw new ConfigError('KPROXY_USERSPACE_WORKERS', `expected auto or a whole number from 0 to 64, got "${v}"`);
  return n;
}

function bindHint(e: NodeJS.ErrnoException, spec: ListenerSpec): string {
  switch (e.code) {
    case 'EACCES':
      return `permission denied: ports below 1024 need root (or sysctl net.ipv4.ip_unprivileged_port_start=${spec.port})`;
    case 'EADDRINUSE':
      return 'the address and port are already in use by another program';
    case 'EADDRNOTAVAIL':
      return `${spec.ip} is not an address of this machine`;
    default:
      return e.message;
  }
}
