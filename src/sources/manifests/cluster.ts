// The folder as a cluster: what an API server, the EndpointSlice controller and the kubelet
// would make of the objects the files define.
//  - Services get their cluster IPs and node ports allocated (written into the object) and
//    then go to the ObjectSink as ordinary Services;
//  - Pods are probed (live use) and turned into EndpointSlices for the Services that select
//    them; a Pod that is deleted (deletionTimestamp, or gone from the folder) stays as a
//    terminating endpoint for its grace period;
//  - Nodes and hand-written EndpointSlices go to the sink as they are; Nodes' zone labels
//    feed the endpoints' zones;
//  - fields a kind does not have are refused as the API server's strict validation refuses
//    them (strict.ts); an unknown kind is reported, a built-in kind kproxy does not read is
//    logged once and ignored.
//  - IPAddressPools, L2Advertisements and Leases go to the sink as they are (LoadBalancer
//    address management reads them).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { validateAllocatedOnce, validateService, validateServiceOnce } from '../../api/validate.js';
import { ZONE_LABEL, type KubeObject, type Service } from '../../api/types.js';
import type { ObjectSink, SinkKind } from '../sink.js';
import type { Logger } from '../../util/log.js';
import type { ObjectError } from '../../util/errors.js';
import { ServiceAllocator, type AllocationInput } from '../allocate/allocator.js';
import { loadAllocations, saveAllocations, type ServiceAllocation } from '../allocate/state.js';
import { EndpointController } from '../pods/controller.js';
import { validatePod, type Pod } from '../pods/pod.js';
import { Prober, type GrpcProbe } from '../pods/prober.js';
import type { PodRecord } from '../pods/record.js';
import { splitId, type Definition, type ManifestCatalog } from './catalog.js';
import { kindProblem, strictProblems, summarize } from './strict.js';
import { fingerprintOf } from '../../util/fingerprint.js';
import { packed, unpacked } from './packed.js';

export interface ClusterOptions {
  sink: ObjectSink;
  log: Logger;
  serviceCIDRs: readonly string[];
  nodePortRange: { min: number; max: number };
  /** Where allocations persist; null: in memory only. */
  allocationsPath: string | null;
  /** Write the allocations file (false for one-shot commands, which only read it). */
  persistAllocations: boolean;
  /**
   * Live: Pods are probed and deleted Pods linger as terminating. One-shot: a Pod's readiness
   * is its status Ready condition when the manifest gives one, else ready.
   */
  live: boolean;
  /** Something changed outside apply() (a probe result, a grace period ending). */
  onAsyncChange?: () => void;
  grpcProbe?: () => Promise<GrpcProbe | null>;
  /** The manifests folder: a Service without creationTimestamp dates from its file's mtime. */
  manifestsDir?: string;
}

/**
 * "namespace/name" as one flat string. A template literal makes a rope (a concatenation that
 * V8 flattens into a second string when the Map hashes it, keeping both): 32 bytes more per
 * Pod for as long as the Pod exists. Array join builds the flat string directly.
 */
const flatId = (namespace: string, name: string): string => [namespace, name].join('/');

/** How a Pod's catalog id begins (catalog.ts objectId). */
const POD_PREFIX = 'Pod/';

/** "file:line" of a definition, written only when reported. */
const whereOf = (def: Definition): string => `${def.file}:${def.line}`;

const namespaceOf = (id: string): string => id.slice(0, id.indexOf('/'));
const nameOf = (id: string): string => id.slice(id.indexOf('/') + 1);

/** The index of the first container with an exec readiness probe, or -1 (most Pods: no probe at all). */
function execProbeAt(pod: Pod): number {
  for (let i = 0; i < pod.containers.length; i++) if (pod.containers[i].readinessProbe?.handler.type === 'exec') return i;
  return -1;
}

/**
 * A Service as its manifest defines it. The allocator runs over every Service whenever one
 * changes, so each is kept with its validation; the object itself is only needed again to
 * write a changed allocation into it, and is kept as text (packed.ts, at about half the size
 * of the parsed object: ~2 MB less at 10,000 Services). The parsed object is also kept until
 * the sync that takes the Service has written its allocation in (a new Service always needs
 * that): packed while it is fresh (twice as fast as later) and read back only for later
 * changes.
 */
class KeptService {
  private readonly text: string;
  private object: KubeObject | undefined;
  readonly valid: ReturnType<typeof validateService>;
  /**
   * What the object last given to the sink for this definition was made of: a fingerprint of
   * the definition's digest and the allocation written in (see syncServices).
   */
  print: number | undefined = undefined;

  constructor(
    o: KubeObject,
    /** The catalog's digest of the definition: equal for equal JSON. */
    readonly digest: number,
  ) {
    this.text = packed(o);
    this.object = o;
    this.valid = validateService(o);
  }

  /** The object as it was defined (the parsed one until synced, then a fresh copy); not to be changed. */
  get raw(): KubeObject {
    return this.object ?? unpacked(this.text);
  }

  /** Synced: only the packed object is kept from now on. */
  synced(): void {
    this.object = undefined;
  }
}

/**
 * A kept Service as the allocator reads it. Its raw object is read only to write a changed
 * allocation in. (A class: an object literal with a getter costs ~1 µs per Service to make.)
 */
class KeptInput implements AllocationInput {
  constructor(
    readonly id: string,
    private readonly kept: KeptService,
    readonly svc: Service,
    readonly createdAt: number | undefined,
  ) {}

  get raw(): KubeObject {
    return this.kept.raw;
  }
}

export class StandaloneCluster {
  private readonly services = new Map<string, KeptService>(); // "ns/name" -> as defined, in arrival order
  private readonly unsynced: KeptService[] = []; // set since the last sync (see KeptService)
  private readonly createdAt = new Map<string, number>(); // "ns/name" -> when it came to exist (see serviceAge)
  private servicesDirty = false;
  // "ns/name" -> what the sink was given: the fingerprint of the valid Service (a number, not
  // its JSON: 10,000s of Services), or a text saying why not.
  private readonly applied = new Map<string, string | number>();
  private readonly slices = new Map<string, string>(); // hand-written slices: id -> JSON
  private readonly nodes = new Map<string, string>(); // Node name -> JSON
  // The Pods live in the controller's table (controller.podRecord): one record per Pod.
  private readonly duplicates = new Map<string, ObjectError>();
  private readonly podErrors = new Set<string>(); // Pods with an error in the sink
  private readonly ignoredKinds = new Set<string>();
  /** Objects refused by strict validation (unknown field, wrong kind): id -> the error. */
  private readonly refused = new Map<string, ObjectError>();
  private readonly allocator: ServiceAllocator;
  private readonly prober: Prober | null;
  readonly controller: EndpointController;
  private flushQueued = false;
  private stopped = false;

  constructor(private readonly opts: ClusterOptions) {
    let held: Map<string, ServiceAllocation> | undefined;
    if (opts.allocationsPath) {
      const { state, problem } = loadAllocations(opts.allocationsPath);
      if (problem) opts.log.warn(problem);
      held = state;
    }
    this.allocator = new ServiceAllocator({ serviceCIDRs: opts.serviceCIDRs, nodePortRange: opts.nodePortRange, warn: (m) => opts.log.warn(m) }, held);
    this.prober = opts.live ? new Prober({ onChange: (id) => this.podReadinessChanged(id), log: opts.log, grpcProbe: opts.grpcProbe }) : null;
    this.controller = new EndpointController({ sink: opts.sink, ready: (id) => this.isReady(id) });
  }

  /** Re-evaluates the given object ids against the catalog; call flush() afterwards. */
  apply(ids: Iterable<string>, catalog: ManifestCatalog): void {
    const mtimes = new Map<string, number | null>(); // one stat per file, not per Service
    for (const id of ids) {
      const def = catalog.winner(id);
      const losers = catalog.losers(id);
      if (losers.length > 0 && def) {
        const { kind, namespace, name } = splitId(id);
        const again = losers.map((l) => `${l.file}:${l.line}`).join(', ');
        this.duplicates.set(id, { kind, namespace, name, field: 'metadata.name', reason: `defined again in ${again}; the definition in ${def.file}:${def.line} wins` });
      } else if (this.duplicates.delete(id)) {
        const { kind, namespace, name } = splitId(id);
        this.opts.sink.clearError(kind, namespace, name);
      }
      // A winner that only its digest stands for was applied when it won and is unchanged:
      // what changed is who lost to it (reported above), not the object.
      if (def && catalog.applied(def)) continue;
      if (this.refused.delete(id)) {
        const { kind, namespace, name } = splitId(id);
        this.opts.sink.clearError(kind || '(no kind)', namespace, name);
      }
      if (def?.pod) {
        // A common-shape Pod, read straight into its Pod: it passed what refuse() and
        // validatePod() would check (fast-pod.ts). Its id is "Pod/<namespace>/<name>": the
        // cluster's "<namespace>/<name>" is its tail (a slice, no string to build).
        this.setValidPod(id.slice(POD_PREFIX.length), def.pod);
        continue;
      }
      const { kind, namespace, name } = splitId(id);
      const o = def && catalog.objectOf(def);
      if (o && this.refuse(id, kind, namespace, name, o, def!)) continue; // the previous version, if any, stays
      switch (kind) {
        case 'Service': {
          const sid = flatId(namespace, name);
          if (o && def) this.noteAge(sid, o, def.file, mtimes);
          this.setService(sid, o && new KeptService(o, catalog.digest(def!)));
          break;
        }
        case 'Pod':
          this.setPod(flatId(namespace, name), o);
          break;
        case 'Node':
          this.setNode(name, o);
          break;
        case 'EndpointSlice':
          this.setSlice(id, namespace, name, o);
          break;
        case 'IPAddressPool':
        case 'L2Advertisement':
        case 'Lease':
          // LoadBalancer address management reads these (MetalLB's objects, node Leases).
          if (o) this.opts.sink.upsert(o);
          else this.opts.sink.delete(kind as SinkKind, namespace, name);
          break;
      }
    }
  }

  /** True when the object is refused (reported), or of a kind that is not read. */
  private refuse(id: string, kind: string, namespace: string, name: string, o: KubeObject, def: Definition): boolean {
    const k = kindProblem(kind);
    if (k && !k.error) {
      if (!this.ignoredKinds.has(kind)) {
        this.ignoredKinds.add(kind);
        this.opts.log.info({ kind, file: whereOf(def) }, k.reason);
      }
      return true;
    }
    const problems = k ? [{ field: 'kind', reason: k.reason }] : strictProblems(kind, o);
    if (problems.length === 0) return false;
    const { field, reason } = summarize(problems);
    this.refused.set(id, { kind: kind || '(no kind)', namespace, name, field, reason: `${reason} (${whereOf(def)})` });
    return true;
  }

  /** Mirrors the folder's parse errors into the sink. */
  reportFileErrors(catalog: ManifestCatalog, previous: Set<string>): Set<string> {
    const now = new Set<string>();
    for (const [file, e] of catalog.errors()) {
      now.add(file);
      this.opts.sink.reportError({ kind: 'File', namespace: '', name: file, field: e.line > 0 ? `line ${e.line}` : '', reason: e.message });
    }
    for (const file of previous) if (!now.has(file)) this.opts.sink.clearError('File', '', file);
    return now;
  }

  /** Allocates, runs the endpoint controller and hands every change to the sink. */
  flush(keepAbsentAllocations = false): void {
    if (this.servicesDirty) this.syncServices(keepAbsentAllocations);
    this.controller.flush();
    for (const e of this.duplicates.values()) this.opts.sink.reportError(e);
    for (const e of this.refused.values()) this.opts.sink.reportError(e);
  }

  /**
   * Waits (at most capMs) for the first answer of every probe that could run at once, then
   * writes the slices: the first ProxyState already has the Pods that are ready.
   */
  async settle(capMs: number): Promise<void> {
    if (!this.prober) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.prober.firstResults(), new Promise<void>((r) => (timer = setTimeout(r, capMs)))]);
    clearTimeout(timer);
    this.controller.flush();
  }

  stop(): void {
    this.stopped = true;
    this.prober?.stop();
    for (const r of this.controller.podRecords()) if (r.timer) clearTimeout(r.timer);
  }

  /** Probe attempts and failures so far (benchmarks). */
  get probeCounts(): { attempts: number; failures: number } {
    return { attempts: this.prober?.attemptCount ?? 0, failures: this.prober?.failureCount ?? 0 };
  }

  // ---- Services ---------------------------------------------------------------------------

  private setService(id: string, kept: KeptService | undefined): void {
    if (kept) {
      this.services.set(id, kept);
      this.unsynced.push(kept);
    } else if (this.services.delete(id)) this.createdAt.delete(id);
    else return;
    this.servicesDirty = true;
  }

  /**
   * When a Service came to exist, for deciding who held a contested cluster IP when the
   * allocation state is lost: metadata.creationTimestamp, else the modification time of its
   * manifest file when kproxy first saw it (a later edit does not make it younger while
   * kproxy runs). Dropped when the Service goes away.
   */
  private noteAge(id: string, o: KubeObject, file: string, mtimes: Map<string, number | null>): void {
    const stamp = Date.parse(String((o.metadata as { creationTimestamp?: unknown } | undefined)?.creationTimestamp ?? ''));
    if (!Number.isNaN(stamp)) return void this.createdAt.set(id, stamp);
    if (this.createdAt.has(id) || !this.opts.manifestsDir) return;
    let mtime = mtimes.get(file);
    if (mtime === undefined) {
      try {
        mtime = statSync(join(this.opts.manifestsDir, file)).mtimeMs;
      } catch {
        mtime = null; // gone again already: unknown age
      }
      mtimes.set(file, mtime);
    }
    if (mtime !== null) this.createdAt.set(id, mtime);
  }

  private syncServices(keepAbsent: boolean): void {
    this.servicesDirty = false;
    const { sink } = this.opts;
    const inputs: AllocationInput[] = [];
    for (const [id, kept] of this.services) {
      const v = kept.valid;
      if (v.ok) {
        inputs.push(new KeptInput(id, kept, v.value, this.createdAt.get(id)));
        continue;
      }
      const raw = kept.raw;
      if (this.applied.get(id) !== `invalid:${JSON.stringify(raw)}`) {
        sink.upsert(raw); // records the error; a previous valid version keeps working
        this.applied.set(id, `invalid:${JSON.stringify(raw)}`);
      }
    }
    const results = this.allocator.assign(inputs, keepAbsent);
    for (const [id, r] of results) {
      const [namespace, name] = [id.slice(0, id.indexOf('/')), id.slice(id.indexOf('/') + 1)];
      if (!r.ok) {
        if (this.applied.get(id) === `error:${r.error.reason}`) continue;
        sink.delete('Service', namespace, name);
        sink.reportError(r.error);
        this.controller.setService(id, null);
        this.applied.set(id, `error:${r.error.reason}`);
        continue;
      }
      // The same definition with the same allocation: the object the sink has (not built again).
      const kept = this.services.get(id)!;
      if (r.same && kept.print !== undefined && this.applied.get(id) === kept.print) continue;
      // The object is the definition with the allocation written in (and the IP families,
      // which follow from the definition and the service CIDRs, fixed while kproxy runs):
      // equal parts give an equal object, so the parts are fingerprinted, not the object.
      const print = (kept.print = fingerprintOf([kept.digest, r.allocation]));
      if (this.applied.get(id) === print) continue;
      this.applied.set(id, print);
      // Validated here once: the sink (and LoadBalancer management before it) get this result.
      // The definition was valid (only valid ones are allocated): the allocation's fields are
      // what is left to check.
      const v = kept.valid.ok ? validateAllocatedOnce(r.object, kept.valid.value) : validateServiceOnce(r.object);
      sink.upsert(r.object);
      this.controller.setService(id, v.ok ? v.value : null);
    }
    for (const id of [...this.applied.keys()]) {
      if (this.services.has(id)) continue;
      this.applied.delete(id);
      const [namespace, name] = [id.slice(0, id.indexOf('/')), id.slice(id.indexOf('/') + 1)];
      sink.delete('Service', namespace, name);
      this.controller.setService(id, null);
    }
    for (const kept of this.unsynced) kept.synced();
    this.unsynced.length = 0;
    this.saveAllocations();
  }

  /** Writes the allocations when the pass changed them (the file holds what the last pass gave). */
  private saveAllocations(): void {
    if (!this.opts.allocationsPath || !this.opts.persistAllocations || !this.allocator.changed()) return;
    try {
      saveAllocations(this.opts.allocationsPath, this.allocator.holdings());
    } catch (e) {
      // Warned once per change, not on every flush: the next change tries again.
      this.opts.log.warn({ path: this.opts.allocationsPath, err: (e as Error).message }, 'cannot save service allocations; they stay in memory');
    }
  }

  // ---- Nodes and hand-written EndpointSlices ------------------------------------------------

  private setNode(name: string, o: KubeObject | undefined): void {
    const text = o ? JSON.stringify(o) : '';
    if ((this.nodes.get(name) ?? '') === text) return;
    if (o) {
      this.nodes.set(name, text);
      this.opts.sink.upsert(o);
      const labels = (o.metadata?.labels ?? {}) as Record<string, unknown>;
      this.controller.setNodeZone(name, typeof labels[ZONE_LABEL] === 'string' ? (labels[ZONE_LABEL] as string) : '');
    } else {
      this.nodes.delete(name);
      this.opts.sink.delete('Node', '', name);
      this.controller.setNodeZone(name, '');
    }
  }

  private setSlice(id: string, namespace: string, name: string, o: KubeObject | undefined): void {
    const text = o ? JSON.stringify(o) : '';
    if ((this.slices.get(id) ?? '') === text) return;
    if (o) {
      this.slices.set(id, text);
      this.opts.sink.upsert(o);
    } else {
      this.slices.delete(id);
      this.opts.sink.delete('EndpointSlice', namespace, name);
    }
  }

  // ---- Pods ---------------------------------------------------------------------------------

  private setPod(id: string, o: KubeObject | undefined): void {
    if (!o) {
      const rec = this.controller.podRecord(id);
      if (rec?.present) this.podVanished(id, rec);
      return;
    }
    const v = validatePod(o);
    if (!v.ok) {
      // Reported; a previous valid version keeps working.
      this.opts.sink.reportError(v.error);
      this.podErrors.add(id);
      return;
    }
    this.setValidPod(id, v.pod);
  }

  private setValidPod(id: string, pod: Pod): void {
    // The namespace and name are cut from the id only for an error (rare).
    if (this.podErrors.delete(id)) this.opts.sink.clearError('Pod', namespaceOf(id), nameOf(id));
    const exec = execProbeAt(pod);
    if (exec >= 0) {
      this.podErrors.add(id);
      this.opts.sink.reportError({
        kind: 'Pod',
        namespace: namespaceOf(id),
        name: nameOf(id),
        field: `spec.containers[${exec}].readinessProbe.exec`,
        reason: 'exec probes cannot run in standalone mode (kproxy does not run the containers); the Pod stays not ready',
      });
    }
    // The same record, if it had one (looked up once: a fresh id's lookup in a table of
    // 100,000 Pods is not free).
    const next = this.controller.setPod(id, pod, pod.deleting)!;
    if (next.timer && !pod.deleting) {
      clearTimeout(next.timer); // back in the folder: no longer going away
      next.timer = null;
    }
    next.present = true;
    if (pod.ips.length === 0) this.opts.log.debug({ pod: id }, 'Pod has no IP (status.podIP): it is not an endpoint until it has one');
    this.prober?.set(id, pod);
    if (pod.deleting && !next.timer) this.startTermination(id, next);
  }

  /** The Pod's definition left the folder: it terminates for its grace period, still probed. */
  private podVanished(id: string, rec: PodRecord): void {
    rec.present = false;
    if (!this.opts.live || rec.pod.gracePeriodSeconds === 0) return this.removePod(id);
    this.controller.setPod(id, rec.pod, true); // now terminating, in the same record
    if (!rec.timer) this.startTermination(id, rec);
  }

  private startTermination(id: string, rec: PodRecord): void {
    if (!this.opts.live) return; // one-shot: a deleting Pod is shown as terminating
    rec.timer = setTimeout(() => {
      rec.timer = null;
      if (this.stopped || this.controller.podRecord(id) !== rec) return; // removed (and maybe back) meanwhile
      this.removePod(id);
      this.queueFlush();
    }, rec.pod.gracePeriodSeconds * 1000);
    rec.timer.unref?.();
  }

  private removePod(id: string): void {
    const rec = this.controller.podRecord(id);
    if (rec?.timer) clearTimeout(rec.timer);
    this.prober?.remove(id);
    this.controller.setPod(id, null);
  }

  private isReady(id: string): boolean {
    if (this.prober) return this.prober.ready(id);
    return this.controller.podRecord(id)?.readyFromStatus ?? false;
  }

  private podReadinessChanged(id: string): void {
    this.controller.podChanged(id);
    this.queueFlush();
  }

  /** Coalesces asynchronous changes (probe results arrive one by one) into one flush. */
  private queueFlush(): void {
    if (this.flushQueued || this.stopped) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      if (this.stopped) return;
      this.controller.flush();
      this.opts.onAsyncChange?.();
    });
  }
}
