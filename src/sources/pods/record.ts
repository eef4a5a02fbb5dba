// One record per Pod for everything kproxy keeps about it between changes: the validated
// Pod, whether it is terminating, and the standalone cluster's bookkeeping (still in the
// folder, the grace-period timer). The endpoint controller owns the table of records (one
// Map, "ns/name" -> record) and its label index points at the records themselves; the
// standalone cluster reads and marks the same objects. A record lives from the Pod's first
// valid definition until the Pod is removed: a new definition replaces its `pod`, not the
// record. At 100,000 Pods this is one Map entry and one small object per Pod, where there
// were two tables (the cluster's and the controller's), each with its own object per Pod.
import type { Pod } from './pod.js';

export class PodRecord {
  /** Still defined in the folder (false: its file or definition vanished; it terminates). */
  present = true;
  /** The end of the grace period of a Pod that is going away (live use only). */
  timer: NodeJS.Timeout | null = null;

  constructor(
    /** "namespace/name", the key of the controller's table. */
    readonly id: string,
    public pod: Pod,
    /** Shown as terminating in its slices (deleted, or gone from the folder). */
    public terminating: boolean,
  ) {}

  /** Ready as the manifest states it (one-shot use): its Ready condition, else ready. */
  get readyFromStatus(): boolean {
    return this.pod.statusReady ?? true;
  }
}
