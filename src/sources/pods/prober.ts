// The kubelet's readiness prober for the Pods of the folder. One worker per container with
// a readinessProbe; all workers share one Scheduler (a single timer).
//
// Semantics, as the kubelet's prober worker:
//  - a container with a probe starts not ready; probing begins initialDelaySeconds after
//    kproxy first sees the Pod, then runs every periodSeconds (attempts never overlap);
//  - the result flips to ready after successThreshold consecutive successes, and to not
//    ready after failureThreshold consecutive failures;
//  - each attempt is bounded by timeoutSeconds;
//  - a Pod is ready when all its containers are (a container without a probe is ready).
import type { Logger } from '../../util/log.js';
import type { Container, Pod, ProbeSpec } from './pod.js';
import { httpProbe, httpRequest, tcpProbe, type ProbeOutcome } from './probe.js';
import { Scheduler, type Job } from './scheduler.js';

export type GrpcProbe = (host: string, port: number, service: string, timeoutMs: number) => Promise<ProbeOutcome>;

export interface ProberOptions {
  /** Called when a Pod's readiness changes. */
  onChange: (podId: string, ready: boolean) => void;
  log?: Logger;
  /**
   * Spread the first probes of the Pods found at start over one period, as the kubelet does
   * after a restart (default on), so that thousands of probes do not fire in one burst.
   */
  startupJitter?: boolean;
  /** gRPC health checking (optional: loaded only when a Pod asks for it). */
  grpcProbe?: () => Promise<GrpcProbe | null>;
}

type Target =
  | { kind: 'http'; scheme: 'HTTP' | 'HTTPS'; host: string; port: number; path: string; headers: [string, string][]; request: Buffer }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'grpc'; host: string; port: number; service: string }
  | { kind: 'invalid'; reason: string };

interface Worker {
  pod: PodEntry;
  container: string;
  spec: ProbeSpec;
  target: Target;
  signature: string;
  job: Job;
  /** No probe before this time (initialDelaySeconds after the Pod was first seen). */
  notBefore: number;
  /** Added once, after the first probe: the random phase of a worker that probed at once. */
  extraDelay: number;
  ready: boolean;
  lastSuccess: boolean | null;
  run: number; // consecutive equal results
  inflight: boolean;
  stopped: boolean;
  lastDetail: string;
}

interface PodEntry {
  id: string;
  workers: Worker[];
  notReady: number; // workers not ready
}

/** The address and port a probe goes to, resolving a named port in the container's ports. */
function resolveTarget(pod: Pod, c: Container, spec: ProbeSpec): Target {
  const h = spec.handler;
  if (h.type === 'exec') return { kind: 'invalid', reason: 'exec probes cannot run in standalone mode (kproxy does not run the containers)' };
  const podIP = pod.ips[0] ?? '';
  const host = (h.type !== 'grpc' && h.host) || podIP;
  if (!host) return { kind: 'invalid', reason: 'the Pod has no IP (status.podIP) to probe' };
  let port: number;
  if (typeof h.port === 'number') port = h.port;
  else {
    const named = c.ports.find((p) => p.name === h.port);
    if (!named) return { kind: 'invalid', reason: `port name "${h.port}" is not a port of container ${c.name}` };
    port = named.containerPort;
  }
  if (h.type === 'httpGet') {
    const t = { scheme: h.scheme, host, port, path: h.path, headers: h.headers };
    return { kind: 'http', ...t, request: httpRequest(t) };
  }
  if (h.type === 'tcpSocket') return { kind: 'tcp', host, port };
  return { kind: 'grpc', host, port, service: h.service };
}

export class Prober {
  private readonly scheduler = new Scheduler();
  // The Pods with a readiness probe, or that had one. A Pod that never had one is not kept at
  // all (a folder of 100,000 Pods without probes costs nothing here): its owner knows it exists.
  private readonly pods = new Map<string, PodEntry>();
  private readonly initial = new Set<Worker>(); // first probe not answered yet
  private initialWaiters: (() => void)[] = [];
  private grpc: GrpcProbe | null | undefined;
  private attempts = 0;
  private failures = 0;
  private readonly startedAt = performance.now();

  constructor(private readonly opts: ProberOptions) {}

  /**
   * Whether the Pod is ready now. Ask only about Pods given to set() and not removed since:
   * a Pod the prober does not keep is one without a readiness probe, which is ready.
   */
  ready(podId: string): boolean {
    const e = this.pods.get(podId);
    return e === undefined || e.notReady === 0;
  }

  /** Probe attempts made so far (for benchmarks and logs). */
  get attemptCount(): number {
    return this.attempts;
  }

  /** Failed probe attempts so far. */
  get failureCount(): number {
    return this.failures;
  }

  /**
   * Starts or updates probing of a Pod. Workers whose probe and target are unchanged keep
   * their state (a label edit does not make a Pod unready). Returns the Pod's readiness;
   * onChange is called only for a Pod that had a probe already (the caller of set() learns
   * the readiness of the others from the result).
   */
  set(podId: string, pod: Pod): boolean {
    let entry = this.pods.get(podId);
    if (!entry && !pod.containers.some((c) => c.readinessProbe)) return true; // nothing to probe: ready, and no bookkeeping
    const isNew = !entry;
    if (!entry) this.pods.set(podId, (entry = { id: podId, workers: [], notReady: 0 }));
    const wasReady = !isNew && entry.notReady === 0;
    const old = new Map(entry.workers.map((w) => [w.container, w]));
    const workers: Worker[] = [];
    for (const c of pod.containers) {
      if (!c.readinessProbe) continue;
      const target = resolveTarget(pod, c, c.readinessProbe);
      const signature = JSON.stringify([c.readinessProbe, target]);
      const prev = old.get(c.name);
      if (prev && prev.signature === signature) {
        workers.push(prev);
        old.delete(c.name);
        continue;
      }
      workers.push(this.startWorker(entry, c.name, c.readinessProbe, target, signature));
    }
    for (const w of old.values()) this.stopWorker(w);
    entry.workers = workers;
    entry.notReady = workers.filter((w) => !w.ready).length;
    const ready = entry.notReady === 0;
    if (!isNew && ready !== wasReady) this.opts.onChange(podId, ready);
    return ready;
  }

  remove(podId: string): void {
    const e = this.pods.get(podId);
    if (!e) return;
    for (const w of e.workers) this.stopWorker(w);
    this.pods.delete(podId);
  }

  stop(): void {
    for (const id of [...this.pods.keys()]) this.remove(id);
    this.scheduler.stop();
  }

  private startWorker(pod: PodEntry, container: string, spec: ProbeSpec, target: Target, signature: string): Worker {
    const w: Worker = {
      pod,
      container,
      spec,
      target,
      signature,
      job: this.scheduler.job(() => void this.probe(w)),
      notBefore: this.scheduler.now() + spec.initialDelaySeconds * 1000,
      extraDelay: 0,
      ready: false,
      lastSuccess: null,
      run: 0,
      inflight: false,
      stopped: false,
      lastDetail: '',
    };
    if (target.kind === 'invalid') {
      this.opts.log?.warn({ pod: pod.id, container }, `readiness probe cannot run: ${target.reason}; the Pod stays not ready`);
      return w;
    }
    // The kubelet's worker ticks every period from its start; ticks before initialDelaySeconds
    // do not probe. Workers started with the prober begin at a random point of the period.
    // Exception: a worker that may probe at once does so (and the source waits for these
    // first answers before its first sync, so that kproxy starts with the Pods that are
    // ready already); its later ticks keep the random phase.
    const now = this.scheduler.now();
    const period = spec.periodSeconds * 1000;
    const jitter = this.opts.startupJitter !== false && now - this.startedAt < period ? Math.random() * period : 0;
    if (w.notBefore <= now) {
      w.extraDelay = jitter;
      this.initial.add(w);
      this.scheduler.at(w.job, now);
      return w;
    }
    let first = now + jitter;
    if (first < w.notBefore) first += Math.ceil((w.notBefore - first) / period) * period;
    this.scheduler.at(w.job, first);
    return w;
  }

  private stopWorker(w: Worker): void {
    w.stopped = true;
    this.scheduler.cancel(w.job);
    this.firstDone(w);
  }

  private async probe(w: Worker): Promise<void> {
    if (w.stopped || w.inflight) return;
    w.inflight = true;
    const started = this.scheduler.now();
    const timeoutMs = w.spec.timeoutSeconds * 1000;
    let outcome: ProbeOutcome;
    try {
      outcome = await this.attempt(w.target, timeoutMs);
    } catch (e) {
      outcome = { success: false, detail: (e as Error).message };
    }
    this.attempts++;
    if (!outcome.success) this.failures++;
    w.inflight = false;
    if (w.stopped) return;
    this.record(w, outcome);
    this.scheduler.at(w.job, Math.max(this.scheduler.now(), started + w.spec.periodSeconds * 1000 + w.extraDelay));
    w.extraDelay = 0;
    this.firstDone(w);
  }

  /** Resolves once every worker that could probe at once has had its first answer. */
  firstResults(): Promise<void> {
    if (this.initial.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.initialWaiters.push(resolve));
  }

  private firstDone(w: Worker): void {
    if (!this.initial.delete(w) || this.initial.size > 0) return;
    const waiters = this.initialWaiters;
    this.initialWaiters = [];
    for (const r of waiters) r();
  }

  private attempt(t: Target, timeoutMs: number): Promise<ProbeOutcome> {
    switch (t.kind) {
      case 'http':
        return httpProbe(t, timeoutMs, t.request);
      case 'tcp':
        return tcpProbe(t.host, t.port, timeoutMs);
      case 'grpc':
        return this.grpcAttempt(t.host, t.port, t.service, timeoutMs);
      default:
        return Promise.resolve({ success: false, detail: t.reason });
    }
  }

  private async grpcAttempt(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
    if (this.grpc === undefined) this.grpc = (await this.opts.grpcProbe?.()) ?? null;
    if (!this.grpc) return { success: false, detail: 'gRPC probes are not available' };
    return this.grpc(host, port, service, timeoutMs);
  }

  /** The kubelet's threshold logic: a result counts once it repeats enough times in a row. */
  private record(w: Worker, o: ProbeOutcome): void {
    if (w.lastSuccess === o.success) w.run++;
    else {
      w.lastSuccess = o.success;
      w.run = 1;
    }
    if (!o.success && o.detail !== w.lastDetail) this.opts.log?.debug({ pod: w.pod.id, container: w.container, detail: o.detail }, 'readiness probe failed');
    w.lastDetail = o.success ? '' : o.detail;
    const threshold = o.success ? w.spec.successThreshold : w.spec.failureThreshold;
    if (w.run < threshold || w.ready === o.success) return;
    w.ready = o.success;
    const podWasReady = w.pod.notReady === 0;
    w.pod.notReady += o.success ? -1 : 1;
    const podReady = w.pod.notReady === 0;
    if (podReady !== podWasReady) this.opts.onChange(w.pod.id, podReady);
  }
}
