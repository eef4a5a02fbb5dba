// Worker processes for the userspace proxy (--userspace-workers N|auto; auto = one per core
// beyond the first; KPROXY_USERSPACE_WORKERS=N overrides). A worker that dies is started
// again (after 1 s if it died young) and given the current routes and sockets. One Node
// thread accepts, dials and copies on one core, and on a busy machine gets one thread's share
// of the CPU. Workers share the primary's listening TCP sockets (the socket is passed over IPC,
// as Node's cluster does), so new connections spread over processes. The primary keeps
// binding, addresses, UDP and every Service with ClientIP affinity; rr and the counting
// schedulers (lc, sed, nq, p2c) then work per process.
import { fork, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../util/log.js';
import type { BalancerInput, ServiceBalancer } from './balancer.js';
import type { ListenerSpec } from './compile.js';
import type { UserspaceMetrics } from './metrics.js';
import type { SchedulerName } from './schedulers/index.js';
import type { FromWorker, ToWorker } from './wire.js';

interface Worker {
  proc: ChildProcess;
  /** Messages held until the worker says it is ready. */
  queue: [ToWorker, net.Server | undefined][] | null;
}

export interface SharedServicePort {
  input: BalancerInput;
  scheduler: SchedulerName;
  balancer: ServiceBalancer;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly liveTcp = new Map<number, number>();
  /** Listener keys shared with the workers, with the route last sent. */
  private readonly shared = new Map<string, string>();
  private stopping = false;
  private readyCount = 0;
  /** What a new worker must be told: the last routes and every shared listener with its socket. */
  private lastRoutes: ToWorker | null = null;
  private readonly listening = new Map<string, { msg: ToWorker; server: net.Server }>();
  private readonly script = fileURLToPath(new URL('./worker.js', import.meta.url));
  /** Workers started again after dying (tests, logs). */
  restarts = 0;
  private onAllReady: (() => void) | null = null;
  /** Resolves once every worker can take sockets (tests, benchmarks). */
  readonly ready: Promise<void> = new Promise((r) => (this.onAllReady = r));

  constructor(
    count: number,
    private readonly metrics: UserspaceMetrics,
    private readonly log: Logger,
    private readonly env: Record<string, string> = {},
  ) {
    for (let i = 0; i < count; i++) this.workers.push(this.spawn(count));
    metrics.extraTcpConnections = () => [...this.liveTcp.values()].reduce((a, b) => a + b, 0);
  }

  /** After a sync: the routes of every shared service port, then new, changed and gone listeners. */
  update(servicePorts: ReadonlyMap<string, SharedServicePort>, open: ReadonlyMap<string, { spec: ListenerSpec; server: net.Server | null }>, graceMs: number): void {
    const sharable = (spec: ListenerSpec) => spec.protocol === 'TCP' && servicePorts.get(spec.servicePort)?.balancer.hasAffinity === false;
    const routes: Extract<ToWorker, { t: 'routes' }> = { t: 'routes', servicePorts: [] };
    for (const [key, p] of servicePorts) if (!p.balancer.hasAffinity) routes.servicePorts.push([key, p.input, p.scheduler]);
    this.send(routes);
    this.lastRoutes = routes;
    for (const [key, o] of open) {
      if (!o.server || !sharable(o.spec)) continue;
      const sig = `${o.spec.servicePort}|${o.spec.kind}|${o.spec.sourceRanges.join(',')}`;
      const was = this.shared.get(key);
      if (was === sig) continue;
      const msg: ToWorker = { t: 'listen', key, servicePort: o.spec.servicePort, kind: o.spec.kind, sourceRanges: o.spec.sourceRanges };
      this.send(msg, was === undefined ? o.server : undefined);
      this.shared.set(key, sig);
      this.listening.set(key, { msg, server: o.server });
    }
    for (const key of [...this.shared.keys()]) {
      const o = open.get(key);
      if (o && sharable(o.spec)) continue;
      this.shared.delete(key);
      this.listening.delete(key);
      this.send({ t: 'close', key, graceMs });
    }
  }

  private spawn(count: number): Worker {
    const proc = fork(this.script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...this.env } });
    const started = Date.now();
    const w: Worker = { proc, queue: [] };
    // a new worker learns the current state first; later updates queue behind it
    if (this.lastRoutes) w.queue!.push([this.lastRoutes, undefined]);
    for (const { msg, server } of this.listening.values()) w.queue!.push([msg, server]);
    proc.on('message', (m: FromWorker) => {
      if (m.t === 'ready') {
        const q = w.queue ?? [];
        w.queue = null;
        for (const [msg, handle] of q) this.sendTo(w, msg, handle);
        if (++this.readyCount === count) this.onAllReady?.();
      } else this.stats(proc, m);
    });
    proc.on('exit', (code, signal) => {
      this.liveTcp.delete(proc.pid!);
      if (this.stopping) return;
      const young = Date.now() - started < 1000;
      this.log.error({ pid: proc.pid, code, signal }, `userspace worker process exited; starting another${young ? ' in 1 s' : ''} (the primary goes on serving meanwhile)`);
      const t = setTimeout(
        () => {
          if (this.stopping) return;
          const i = this.workers.indexOf(w);
          if (i < 0) return;
          this.restarts++;
          this.workers[i] = this.spawn(-1);
        },
        young ? 1000 : 0,
      );
      t.unref();
    });
    return w;
  }

  /** Process ids of the workers now (tests, status). */
  pids(): number[] {
    return this.workers.map((w) => w.proc.pid!).filter(Boolean);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.workers.map(
        ({ proc }) =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
            const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
            proc.once('exit', () => (clearTimeout(t), resolve()));
            if (proc.connected) proc.send({ t: 'stop' } satisfies ToWorker, (err) => err && proc.kill('SIGKILL'));
            else proc.kill('SIGKILL');
          }),
      ),
    );
  }

  private send(m: ToWorker, handle?: net.Server): void {
    for (const w of this.workers) {
      if (w.queue) w.queue.push([m, handle]);
      else this.sendTo(w, m, handle);
    }
  }

  private sendTo(w: Worker, m: ToWorker, handle?: net.Server): void {
    if (!w.proc.connected) return;
    w.proc.send(m, handle as never, (err) => err && this.log.error({ pid: w.proc.pid, err: err.message }, 'cannot reach a userspace worker'));
  }

  private stats(proc: ChildProcess, m: Extract<FromWorker, { t: 'stats' }>): void {
    for (const [reason, n] of Object.entries(m.retries)) this.metrics.retries.inc({ reason }, n);
    for (const [reason, n] of Object.entries(m.rejected)) this.metrics.rejected.inc({ reason }, n);
    this.liveTcp.set(proc.pid!, m.tcpConnections);
  }
}
