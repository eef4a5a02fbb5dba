// What the API server sends is checked before anything uses it. A watch event or a list that
// does not have the shape the API defines is refused as a whole: the informer library would
// otherwise crash on it (an unhandled rejection), and a list that is not a list — `200 {}` —
// would read as "every object was deleted". A refused list is an error that keeps the state
// and retries; a refused watch event is logged and skipped.

export const WATCH_EVENT_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Why an object from the API server cannot be used (null: it can). */
export function objectProblem(o: unknown, kind: string): string | null {
  if (!isObject(o)) return `the object is ${describe(o)}, not a ${kind}`;
  if (o.kind !== undefined && o.kind !== kind) return `the object's kind is ${JSON.stringify(o.kind)}, not ${kind}`;
  const m = o.metadata;
  if (!isObject(m)) return `the object's metadata is ${describe(m)}`;
  if (typeof m.name !== 'string' || m.name === '') return 'the object has no metadata.name';
  if (m.namespace !== undefined && typeof m.namespace !== 'string') return 'metadata.namespace is not a string';
  if (m.resourceVersion !== undefined && typeof m.resourceVersion !== 'string') return 'metadata.resourceVersion is not a string';
  return null;
}

/** Why a watch event cannot be used (null: it can). */
export function watchEventProblem(e: unknown, kind: string): string | null {
  if (!isObject(e)) return `the event is ${describe(e)}`;
  if (typeof e.type !== 'string' || !WATCH_EVENT_TYPES.has(e.type)) return `unknown event type ${JSON.stringify(e.type)}`;
  if (!isObject(e.object)) return `${e.type} event with an object that is ${describe(e.object)}`;
  if (e.type === 'ERROR') return null; // a Status; the informer reads only its code
  if (e.type === 'BOOKMARK') {
    const m = e.object.metadata;
    return isObject(m) && typeof m.resourceVersion === 'string' ? null : 'BOOKMARK event without metadata.resourceVersion';
  }
  const p = objectProblem(e.object, kind);
  return p ? `${e.type} event: ${p}` : null;
}

/** Why a list page cannot be used (null: it can). */
export function listProblem(page: unknown, kind: string): string | null {
  if (!isObject(page)) return `the list reply is ${describe(page)}, not a ${kind}List`;
  if (page.kind !== undefined && page.kind !== `${kind}List`) return `the list reply is a ${JSON.stringify(page.kind)}, not a ${kind}List`;
  if (!isObject(page.metadata)) return `the list reply has no metadata (not a ${kind}List)`;
  // An empty list is `items: []`; a Go nil slice would be `null`, accepted only from a reply
  // that says what it is.
  if (page.items === null && page.kind === `${kind}List`) return null;
  if (!Array.isArray(page.items)) return `the list reply has no items array (not a ${kind}List)`;
  for (let i = 0; i < page.items.length; i++) {
    const p = objectProblem(page.items[i], kind);
    if (p) return `item ${i} of the list: ${p}`;
  }
  return null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}
