// Worker processes for the userspace proxy (opt-in: KPROXY_USERSPACE_WORKERS=N). One Node
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
  private onAllReady: (() => void) | null = null;
  /** Resolves once every worker can take sockets (tests, benchmarks). */
  readonly ready: Promise<void> = new Promise((r) => (this.onAllReady = r));

  constructor(
    count: number,
    private readonly metrics: UserspaceMetrics,
    private readonly log: Logger,
    env: Record<string, string> = {},
  ) {
    const script = fileURLToPath(new URL('./worker.js', import.meta.url));
    for (let i = 0; i < count; i++) {
      const proc = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
      const w: Worker = { proc, queue: [] };
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
        if (!this.stopping) log.error({ pid: proc.pid, code, signal }, 'userspace worker process exited; the primary goes on serving');
      });
      this.workers.push(w);
    }
    metrics.extraTcpConnections = () => [...this.liveTcp.values()].reduce((a, b) => a + b, 0);
  }

  /** After a sync: the routes of every shared service port, then new, changed and gone listeners. */
  update(servicePorts: ReadonlyMap<string, SharedServicePort>, open: ReadonlyMap<string, { spec: ListenerSpec; server: net.Server | null }>, graceMs: number): void {
    const sharable = (spec: ListenerSpec) => spec.protocol === 'TCP' && servicePorts.get(spec.servicePort)?.balancer.hasAffinity === false;
    const routes: Extract<ToWorker, { t: 'routes' }> = { t: 'routes', servicePorts: [] };
    for (const [key, p] of servicePorts) if (!p.balancer.hasAffinity) routes.servicePorts.push([key, p.input, p.scheduler]);
    this.send(routes);
    for (const [key, o] of open) {
      if (!o.server || !sharable(o.spec)) continue;
      const sig = `${o.spec.servicePort}|${o.spec.kind}|${o.spec.sourceRanges.join(',')}`;
      const was = this.shared.get(key);
      if (was === sig) continue;
      this.send({ t: 'listen', key, servicePort: o.spec.servicePort, kind: o.spec.kind, sourceRanges: o.spec.sourceRanges }, was === undefined ? o.server : undefined);
      this.shared.set(key, sig);
    }
    for (const key of [...this.shared.keys()]) {
      const o = open.get(key);
      if (o && sharable(o.spec)) continue;
      this.shared.delete(key);
      this.send({ t: 'close', key, graceMs });
    }
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
