// One resource kept in step with the API server: client-node's ListWatch (list, then watch
// from the list's resourceVersion; re-list on 410 Gone, delivering the differences as
// add/update/delete), restarted with backoff whenever it stops on an error. It never
// forgets what it knew: while the API server is unreachable the last state stays in the
// model, and the first list after reconnecting delivers only what changed meanwhile.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ListWatch } from './client-node.js';
import type { KubeObject } from '../../api/types.js';
import type { Logger } from '../../util/log.js';
import { pagedLister } from './list.js';
import type { TokenBucket } from './ratelimit.js';
import { ReflectorWatch } from './watch.js';

export interface ResourceSpec {
  path: string;
  apiVersion: string;
  kind: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerHandlers {
  upsert(o: KubeObject): void;
  delete(o: KubeObject): void;
  /** Reachability changed: false on the first error, true once a watch is established again. */
  connection(connected: boolean): void;
}

export interface InformerOptions {
  pageSize: number;
  limiter: TokenBucket;
  backoff: { initialMs: number; maxMs: number };
  log: Logger;
  /** Watch timeoutSeconds; random 5-10 min unless given (tests). */
  watchTimeoutSeconds?: () => number;
  /** Size limits on list replies and watch event lines (defaults in request.ts and watch.ts). */
  maxListBytes?: number;
  maxWatchLineBytes?: number;
}

export class Informer {
  private readonly lw: ListWatch<KubernetesObject>;
  private listed = false;
  private synced!: () => void;
  /** Resolves once the first complete list has been delivered to the handlers. */
  readonly hasSynced: Promise<void> = new Promise((r) => (this.synced = r));
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private connected = true;
  /** List items already handed to the model, which ListWatch's add/update must not hand on again. */
  private readonly delivered = new WeakSet<object>();
  /**
   * Items handed to the model by a list that ListWatch has not taken in yet (by namespace/name),
   * with the list attempt that did it: if that list fails, ListWatch never learns of them, and
   * the next complete list must delete those that are gone.
   */
  private readonly unacknowledged = new Map<string, { id: KubeObject; attempt: number }>();
  private attempt = 0;

  constructor(
    kc: KubeConfig,
    readonly spec: ResourceSpec,
    h: InformerHandlers,
    private readonly o: InformerOptions,
  ) {
    const watch = new ReflectorWatch(
      kc,
      o.limiter,
      {
        starting: () => {
          // ListWatch starts a watch only after the list's items are delivered.
          if (!this.listed) {
            this.listed = true;
            this.synced();
          }
        },
        established: () => {
          this.failures = 0;
          if (!this.connected) {
            this.connected = true;
            this.o.log.info({ resource: spec.kind }, 'watching the API server again');
            h.connection(true);
          }
        },
        refused: (problem) => o.log.warn({ resource: spec.kind, problem }, 'the API server sent a watch event that is not a valid event; skipped'),
      },
      o.watchTimeoutSeconds,
      spec.kind,
      o.maxWatchLineBytes,
    );
    // A list hands each item to the model as it arrives (list.ts) and ListWatch gets only
    // identities. ListWatch then calls 'add'/'update' for the same objects: those already
    // delivered are skipped. Deletions still come from ListWatch, once a list is complete.
    const list = pagedLister(
      kc,
      { ...spec, pageSize: o.pageSize, limiter: o.limiter, maxBytes: o.maxListBytes },
      {
        begin: () => this.attempt++,
        item: (obj) => {
          const m = obj.metadata!;
          const known = this.lw.get(m.name!, m.namespace);
          // Unchanged since ListWatch last saw it: ListWatch will skip it too.
          if (known && m.resourceVersion !== undefined && known.metadata?.resourceVersion === m.resourceVersion) return identityOf(obj);
          h.upsert(obj);
          const id = identityOf(obj);
          this.delivered.add(id);
          this.unacknowledged.set(keyOf(id), { id, attempt: this.attempt });
          return id;
        },
        complete: () => {
          // Objects an abandoned list delivered and this one no longer holds: deleted
          // meanwhile. ListWatch deletes those it had cached; the others are deleted here.
          for (const [key, u] of this.unacknowledged) {
            if (u.attempt === this.attempt) continue;
            this.unacknowledged.delete(key);
            const m = u.id.metadata!;
            if (!this.lw.get(m.name!, m.namespace)) h.delete(u.id);
          }
        },
      },
    );
    this.lw = new ListWatch(spec.path, watch, list, false, spec.labelSelector, spec.fieldSelector);
    const deliver = (obj: KubernetesObject) => {
      if (this.delivered.delete(obj)) {
        this.unacknowledged.delete(keyOf(obj));
        return;
      }
      h.upsert(withKind(obj, spec));
      keepIdentityOnly(obj);
    };
    this.lw.on('add', deliver);
    this.lw.on('update', deliver);
    this.lw.on('delete', (obj) => h.delete(withKind(obj, spec)));
    this.lw.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.failures++;
      if (this.connected) {
        this.connected = false;
        h.connection(false);
      }
      const delay = Math.min(o.backoff.maxMs, o.backoff.initialMs * 2 ** (this.failures - 1));
      const jittered = Math.round(delay * (0.8 + Math.random() * 0.4));
      o.log.warn({ resource: spec.kind, err: describe(err), retryInMs: jittered }, 'list/watch failed; keeping the last known state and retrying');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (!this.stopped) void this.lw.start();
      }, jittered);
    });
  }

  start(): void {
    this.stopped = false;
    void this.lw.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.lw.stop();
  }

  /** The resourceVersion the next watch resumes from ("" = the next start re-lists). */
  resourceVersion(): string {
    return this.lw.latestResourceVersion();
  }
}

/**
 * ListWatch keeps every object it delivered, to tell on a re-list what disappeared and to
 * skip unchanged resourceVersions. For that it needs only the identity; the model already
 * holds its own validated copy. Emptying the cached object (replacing, never mutating, the
 * parts the model may share) halves the source's memory at 100,000 endpoints.
 */
function keepIdentityOnly<T extends KubernetesObject | KubeObject>(obj: T): T {
  const o = obj as unknown as Record<string, unknown>;
  const m = obj.metadata ?? {};
  for (const k of Object.keys(o)) if (k !== 'apiVersion' && k !== 'kind') delete o[k];
  obj.metadata = { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion };
  return obj;
}

/** A new object with only what ListWatch needs (the parsed one is left to the model, whole). */
function identityOf(obj: KubeObject): KubeObject {
  const m = obj.metadata!;
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion } };
}

function keyOf(obj: KubernetesObject | KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/** Watch events carry kind/apiVersion; a DELETED tombstone might not: make sure. */
function withKind(obj: KubernetesObject, spec: ResourceSpec): KubeObject {
  const o = obj as unknown as KubeObject;
  if (o.kind === spec.kind && o.apiVersion) return o;
  return { ...o, apiVersion: spec.apiVersion, kind: spec.kind };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}
