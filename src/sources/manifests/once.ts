// The manifests folder read once: every object handed to the tracker, duplicates and
// unparsable files reported. The standalone source watches the folder on top of this.
import type { ChangeTracker } from '../../model/tracker.js';
import { readManifestDir } from './read.js';

export function loadManifestsOnce(dir: string, tracker: ChangeTracker): void {
  const { objects, errors } = readManifestDir(dir);
  const seen = new Map<string, string>();
  for (const { object, file, line } of objects) {
    const namespace = object.kind === 'Node' ? '' : (object.metadata?.namespace ?? 'default');
    const id = `${object.kind}/${namespace}/${object.metadata?.name ?? ''}`;
    const first = seen.get(id);
    if (first !== undefined) {
      tracker.reportError({
        kind: String(object.kind),
        namespace,
        name: String(object.metadata?.name ?? ''),
        field: 'metadata.name',
        reason: `defined again in ${file}:${line}; the definition in ${first} wins`,
      });
      continue;
    }
    seen.set(id, `${file}:${line}`);
    tracker.upsert(object);
  }
  for (const e of errors) {
    tracker.reportError({ kind: 'File', namespace: '', name: e.file, field: `line ${e.line}`, reason: e.message });
  }
}
