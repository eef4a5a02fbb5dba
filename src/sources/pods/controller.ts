// The EndpointSlice controller, incremental: it keeps the Services with selectors and the
// Pods, indexed by label, and recomputes only the Services a change can affect (a Pod's
// old and new labels, its readiness, a Service's own edit). The slices it derives go into
// the ObjectSink exactly as slices from an API server would; unchanged slices are not
// touched, so the sink sees only real changes. A sink that takes slices in the model's
// validated form (upsertEndpointSlice: the change tracker) gets them so, built straight
// from the validated Service and Pods: no raw object to validate again.
import { TRIGGER_TIME_ANNOTATION, type EndpointSlice, type KubeObject, type Service } from '../../api/types.js';
import { fingerprintOf } from '../../util/fingerprint.js';
import type { ObjectSink } from '../sink.js';
import type { Pod } from './pod.js';
import { PodRecord } from './record.js';
import { sameEndpointSlice } from './slice-equal.js';
import { buildEndpointSliceModels, buildEndpointSlices, selectorMatches, type SlicePodView } from './slices.js';

export interface ControllerOptions {
  sink: ObjectSink;
  /** Whether a Pod is ready (the prober's verdict, or the manifest's in one-shot use). */
  ready: (podId: string) => boolean;
  maxEndpointsPerSlice?: number;
}

/** Label keys indexed one by one, as Services select by them; beyond this, all of them. */
const MAX_SELECTED_KEYS = 32;

const key3 = (ns: string, k: string, v: string) => [ns, k, v].join('\u0000'); // flat, not a rope

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

export class EndpointController {
  private readonly services = new Map<string, Service>();
  private readonly serviceIndex = new Map<string, Set<string>>(); // by one selector pair
  // The Pods' records (record.ts): the one table of Pods, shared with the standalone cluster.
  private readonly pods = new Map<string, PodRecord>();
  // The Pods by label pair, for the label keys some Service's selector uses (in any
  // namespace): a label no selector reads is not indexed. At 100,000 Pods that all carry
  // tier=backend and no Service selects by tier, that is one 100,000-entry Set never read.
  // A key is indexed from the first Service that selects by it: every Pod is scanned once
  // then, and every Pod set later is indexed by it. After MAX_SELECTED_KEYS keys, every key
  // is (one last scan), so Services that each select by a label of their own cost no more
  // than a bounded number of scans.
  private readonly podIndex = new Map<string, Set<PodRecord>>();
  private readonly indexedKeys = new Set<string>();
  private indexAll = false;
  /** Changes whenever more keys are indexed: the label sets' keys below are then stale. */
  private indexGeneration = 0;
  // The index keys of a label set (its pairs of indexed keys), made once per set and index
  // generation: validated Pods share their label objects (shared.ts), so 100,000 Pods have a
  // few thousand sets, and a Pod's keys are needed two or three times per change (index,
  // unindex, the Services it may affect).
  private readonly labelKeys = new WeakMap<Readonly<Record<string, string>>, { namespace: string; generation: number; keys: string[] }>();
  private readonly zones = new Map<string, string>();
  // svcId -> slice name -> what was last written. To a direct sink: the slice in the model's
  // form, the very object the sink keeps (holding it here costs nothing). Otherwise a
  // fingerprint of the API object, equal for equal JSON (the sink has the object; ~30 MB at
  // 100,000 endpoints).
  private readonly emitted = new Map<string, Map<string, EndpointSlice | number>>();
  private readonly dirty = new Set<string>();

  constructor(private readonly opts: ControllerOptions) {}

  // ---- inputs -----------------------------------------------------------------------------

  /** Adds, replaces or (svc = null) removes a Service. Services without a selector are not managed. */
  setService(id: string, svc: Service | null): void {
    const old = this.services.get(id);
    if (old) {
      removeFrom(this.serviceIndex, this.indexKey(old), id);
      this.services.delete(id);
    }
    if (svc && svc.selector !== null && svc.type !== 'ExternalName') {
      for (const k in svc.selector) this.indexKeyOfPods(k);
      this.services.set(id, svc);
      addTo(this.serviceIndex, this.indexKey(svc), id);
    }
    if (old || this.services.has(id) || this.emitted.has(id)) this.dirty.add(id);
  }

  /**
   * Adds, replaces or (pod = null) removes a Pod. Returns the Pod's record: the same object
   * for as long as the Pod exists (a new definition replaces its `pod`), undefined once removed.
   */
  setPod(id: string, pod: Pod | null, terminating = false): PodRecord | undefined {
    let rec = this.pods.get(id);
    if (rec) {
      this.markServicesOf(rec.pod);
      this.unindex(rec);
      if (!pod) {
        this.pods.delete(id);
        return undefined;
      }
      rec.pod = pod;
      rec.terminating = terminating;
    } else if (pod) {
      this.pods.set(id, (rec = new PodRecord(id, pod, terminating)));
    } else {
      return undefined;
    }
    const keys = this.keysOf(pod.namespace, pod.labels);
    for (const key of keys) addTo(this.podIndex, key, rec);
    this.markServicesOf(pod, keys);
    return rec;
  }

  /** From now on, Pods are indexed by their value of label `key` (those there now too). */
  private indexKeyOfPods(key: string): void {
    if (this.indexAll || this.indexedKeys.has(key)) return;
    this.indexGeneration++;
    // The keys indexed from now on: this one, or past the limit every key not indexed yet.
    const all = this.indexedKeys.size >= MAX_SELECTED_KEYS;
    const added = all ? (k: string) => !this.indexedKeys.has(k) : (k: string) => k === key;
    for (const rec of this.pods.values()) {
      const { namespace, labels } = rec.pod;
      for (const k in labels) if (added(k)) addTo(this.podIndex, key3(namespace, k, labels[k]), rec);
    }
    if (all) {
      this.indexAll = true;
      this.indexedKeys.clear(); // no longer read
    } else this.indexedKeys.add(key);
  }

  private keysOf(namespace: string, labels: Readonly<Record<string, string>>): string[] {
    const known = this.labelKeys.get(labels);
    if (known && known.namespace === namespace && known.generation === this.indexGeneration) return known.keys;
    const keys: string[] = [];
    for (const k in labels) if (this.indexAll || this.indexedKeys.has(k)) keys.push(key3(namespace, k, labels[k]));
    this.labelKeys.set(labels, { namespace, generation: this.indexGeneration, keys });
    return keys;
  }

  /** The Pod's record, while the controller has the Pod. */
  podRecord(id: string): PodRecord | undefined {
    return this.pods.get(id);
  }

  /** Every Pod's record. */
  podRecords(): IterableIterator<PodRecord> {
    return this.pods.values();
  }

  private unindex(rec: PodRecord): void {
    for (const key of this.keysOf(rec.pod.namespace, rec.pod.labels)) removeFrom(this.podIndex, key, rec);
  }

  /** The Pod's readiness (or anything else the slices show) changed. */
  podChanged(id: string): void {
    const s = this.pods.get(id);
    if (s) this.markServicesOf(s.pod);
  }

  setNodeZone(node: string, zone: string): void {
    if ((this.zones.get(node) ?? '') === zone) return;
    if (zone) this.zones.set(node, zone);
    else this.zones.delete(node);
    for (const id of this.services.keys()) this.dirty.add(id); // rare: recompute everything
  }

  hasPendingChanges(): boolean {
    return this.dirty.size > 0;
  }

  // ---- output ------------------------------------------------------------------------------

  /** Writes the slices of every Service that may have changed; returns how many slices changed. */
  flush(now = new Date()): number {
    let changes = 0;
    const trigger = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const triggerTime = Date.parse(trigger);
    const { sink } = this.opts;
    const ctx = { zoneOf: (n: string) => this.zones.get(n) ?? '', maxEndpointsPerSlice: this.opts.maxEndpointsPerSlice };
    for (const id of this.dirty) {
      const svc = this.services.get(id);
      const before = this.emitted.get(id);
      const after = new Map<string, EndpointSlice | number>();
      if (svc && sink.upsertEndpointSlice) {
        for (const slice of buildEndpointSliceModels(svc, this.podsOf(svc), ctx, triggerTime)) {
          const old = before?.get(slice.name);
          if (old !== undefined && typeof old !== 'number' && sameEndpointSlice(old, slice)) {
            after.set(slice.name, old); // unchanged: the sink keeps the one it has
            continue;
          }
          after.set(slice.name, slice);
          sink.upsertEndpointSlice(slice);
          changes++;
        }
      } else if (svc) {
        for (const slice of buildEndpointSlices(svc, this.podsOf(svc), ctx)) {
          const name = slice.metadata!.name!;
          const print = fingerprintOf(slice); // equal for equal JSON, without building it
          after.set(name, print);
          if (before?.get(name) === print) continue;
          sink.upsert(withTriggerTime(slice, trigger));
          changes++;
        }
      }
      const ns = id.slice(0, id.indexOf('/'));
      for (const name of before?.keys() ?? []) {
        if (after.has(name)) continue;
        sink.delete('EndpointSlice', ns, name);
        changes++;
      }
      if (after.size > 0) this.emitted.set(id, after);
      else this.emitted.delete(id);
    }
    this.dirty.clear();
    return changes;
  }

  private podsOf(svc: Service): SlicePodView[] {
    const sel = svc.selector!;
    let candidates: Set<PodRecord> | undefined;
    for (const [k, v] of Object.entries(sel)) {
      const s = this.podIndex.get(key3(svc.namespace, k, v));
      if (!s) return [];
      if (!candidates || s.size < candidates.size) candidates = s;
    }
    const out: SlicePodView[] = [];
    for (const rec of candidates ?? []) {
      const pod = rec.pod;
      if (!selectorMatches(sel, pod.labels)) continue;
      out.push({ pod, ready: this.opts.ready(rec.id), terminating: rec.terminating || pod.deleting });
    }
    return out;
  }

  private indexKey(svc: Service): string {
    const keys = Object.keys(svc.selector ?? {}).sort();
    return keys.length > 0 ? key3(svc.namespace, keys[0], svc.selector![keys[0]]) : '';
  }

  private markServicesOf(pod: Pod, keys = this.keysOf(pod.namespace, pod.labels)): void {
    for (const key of keys) {
      const ids = this.serviceIndex.get(key);
      if (!ids) continue;
      for (const id of ids) if (selectorMatches(this.services.get(id)!.selector!, pod.labels)) this.dirty.add(id);
    }
  }
}

function withTriggerTime(slice: KubeObject, trigger: string): KubeObject {
  return { ...slice, metadata: { ...slice.metadata, annotations: { [TRIGGER_TIME_ANNOTATION]: trigger } } };
}
