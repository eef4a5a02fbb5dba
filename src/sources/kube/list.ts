// The list half of list/watch, as client-go's reflector does it: pages of `limit` objects
// joined by `continue` tokens, all from one snapshot (one resourceVersion). The first list
// asks for resourceVersion=0, which the API server answers from its watch cache in one
// piece (it ignores `limit` there); a re-list (after 410 Gone) asks for the latest state.
//
// Each page is read as it streams (request.ts getList): every item is parsed, checked and
// handed to hooks.item the moment it has arrived, and the list keeps only what that returns
// (the informer returns the object's identity). So at 100,000 endpoints neither the reply
// text nor the parsed list is ever held whole. Items of a list carry no kind/apiVersion in
// the API's JSON: they are added here so each is a complete object.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { KubeObject } from '../../api/types.js';
import { APIStatusError, getList } from './request.js';
import { listProblem, objectProblem } from './shape.js';
import type { TokenBucket } from './ratelimit.js';

export interface ListOptions {
  path: string; // e.g. /api/v1/services
  apiVersion: string;
  kind: string;
  labelSelector?: string;
  fieldSelector?: string;
  pageSize: number;
  limiter: TokenBucket;
  /** Largest list reply read (bytes); a bigger one is an error. */
  maxBytes?: number;
}

export interface ListHooks {
  /** A list (re)starts from its first page: items handed on before now belong to an abandoned one. */
  begin(): void;
  /** One valid item (kind and apiVersion set); returns what the list keeps in its place. */
  item(o: KubeObject): KubeObject;
  /** Every page has arrived and been checked: the list is complete. */
  complete(): void;
}

interface ListHead {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[] | null;
}

export type ListFn = () => Promise<KubernetesListObject<KubernetesObject>>;

export function pagedLister(kc: KubeConfig, o: ListOptions, hooks: ListHooks): ListFn {
  let first = true;
  return async () => {
    const fromCache = first;
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let token = '';
    const take = (item: unknown, index: number) => {
      const problem = objectProblem(item, o.kind);
      if (problem) throw new Error(`GET ${o.path}: item ${index} of the list: ${problem}; keeping the last known state`);
      const obj = item as KubeObject;
      obj.apiVersion = o.apiVersion;
      obj.kind = o.kind;
      items.push(hooks.item(obj));
    };
    hooks.begin();
    for (;;) {
      const q = new URLSearchParams();
      if (o.labelSelector) q.set('labelSelector', o.labelSelector);
      if (o.fieldSelector) q.set('fieldSelector', o.fieldSelector);
      q.set('limit', String(o.pageSize));
      if (token) q.set('continue', token);
      else if (fromCache) q.set('resourceVersion', '0');
      await o.limiter.take();
      let page: ListHead;
      try {
        page = (await getList(
          kc,
          `${o.path}?${q}`,
          (json) => {
            let item: unknown;
            try {
              item = JSON.parse(json);
            } catch (e) {
              throw new Error(`GET ${o.path}: item ${items.length} of the list is not JSON: ${(e as Error).message}; keeping the last known state`);
            }
            take(item, items.length);
          },
          {
            maxBytes: o.maxBytes,
            // A reply that says it is another kind of list is refused before any item is used
            // (the rest of it is checked once it is complete).
            onItemsStart: (head) => {
              const kind = (head as { kind?: unknown }).kind;
              if (kind !== undefined && kind !== `${o.kind}List`) throw new Error(`GET ${o.path}: the list reply is a ${JSON.stringify(kind)}, not a ${o.kind}List; keeping the last known state`);
            },
          },
        )) as ListHead;
      } catch (e) {
        // An expired continue token: the snapshot is gone, start the list over.
        if (token && e instanceof APIStatusError && e.statusCode === 410) {
          items.length = 0;
          token = '';
          hooks.begin();
          continue;
        }
        throw e;
      }
      // The reply's kind, metadata and items are checked as a whole; items were streamed
      // out of it unless the reply spelled `items` in a way the splitter does not look for.
      const problem = listProblem(page, o.kind);
      if (problem) throw new Error(`GET ${o.path}: ${problem}; keeping the last known state`);
      if (Array.isArray(page.items)) for (const item of page.items) take(item, items.length);
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue ?? '';
      if (!token) break;
    }
    first = false;
    hooks.complete();
    return {
      apiVersion: o.apiVersion,
      kind: `${o.kind}List`,
      metadata: { resourceVersion },
      items: items as KubernetesObject[],
    } as KubernetesListObject<KubernetesObject>;
  };
}
