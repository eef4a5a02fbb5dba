// The list half of list/watch, as client-go's reflector does it: pages of `limit` objects
// joined by `continue` tokens, all from one snapshot (one resourceVersion). The first list
// asks for resourceVersion=0, which the API server answers from its watch cache in one
// piece; a re-list (after 410 Gone) asks for the latest state. Items of a list carry no
// kind/apiVersion in the API's JSON: they are added here so each is a complete object.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { KubeObject } from '../../api/types.js';
import { APIStatusError, getJSON } from './request.js';
import { listProblem } from './shape.js';
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

interface RawList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

export type ListFn = () => Promise<KubernetesListObject<KubernetesObject>>;

export function pagedLister(kc: KubeConfig, o: ListOptions): ListFn {
  let first = true;
  return async () => {
    const fromCache = first;
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let token = '';
    for (;;) {
      const q = new URLSearchParams();
      if (o.labelSelector) q.set('labelSelector', o.labelSelector);
      if (o.fieldSelector) q.set('fieldSelector', o.fieldSelector);
      q.set('limit', String(o.pageSize));
      if (token) q.set('continue', token);
      else if (fromCache) q.set('resourceVersion', '0');
      await o.limiter.take();
      let page: RawList;
      try {
        page = (await getJSON(kc, `${o.path}?${q}`, { maxBytes: o.maxBytes })) as RawList;
      } catch (e) {
        // An expired continue token: the snapshot is gone, start the list over.
        if (token && e instanceof APIStatusError && e.statusCode === 410) {
          items.length = 0;
          token = '';
          continue;
        }
        throw e;
      }
      const problem = listProblem(page, o.kind);
      if (problem) throw new Error(`GET ${o.path}: ${problem}; keeping the last known state`);
      for (const item of page.items ?? []) {
        item.apiVersion = o.apiVersion;
        item.kind = o.kind;
        items.push(item);
      }
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      token = page.metadata?.continue ?? '';
      if (!token) break;
    }
    first = false;
    return {
      apiVersion: o.apiVersion,
      kind: `${o.kind}List`,
      metadata: { resourceVersion },
      items: items as KubernetesObject[],
    } as KubernetesListObject<KubernetesObject>;
  };
}
