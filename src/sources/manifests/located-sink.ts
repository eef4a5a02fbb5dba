// A validation error of an object read from a file says where that object is: the model
// knows only the object, the catalog knows its file and line. The sink is wrapped so that an
// upsert the model refuses is reported again, under the same key, with `(file:line)` added —
// as the errors the folder source finds itself (unknown fields, duplicates) already are.
import type { KubeObject } from '../../api/types.js';
import type { ObjectSink } from '../sink.js';
import { objectId, type ManifestCatalog } from './catalog.js';

export function locatedSink(sink: ObjectSink, catalog: ManifestCatalog): ObjectSink {
  return {
    upsert(o: KubeObject) {
      const err = sink.upsert(o);
      const def = err ? catalog.winner(objectId(o)) : undefined;
      if (!err || !def) return err;
      const located = { ...err, reason: `${err.reason} (${def.file}:${def.line})` };
      sink.reportError(located);
      return located;
    },
    // Slices handed over already validated cannot be refused: nothing to locate.
    upsertEndpointSlice: sink.upsertEndpointSlice ? (slice) => sink.upsertEndpointSlice!(slice) : undefined,
    delete: (kind, namespace, name) => sink.delete(kind, namespace, name),
    reportError: (e) => sink.reportError(e),
    clearError: (kind, namespace, name) => sink.clearError(kind, namespace, name),
  };
}
