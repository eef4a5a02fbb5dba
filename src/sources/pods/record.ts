// One record per Pod for everything kproxy keeps about it between changes: the validated
// Pod, whether it is terminating, and the standalone cluster's bookkeeping (still in the
// folder, the grace-period timer). The endpoint controller owns the table of records (one
// Map, "ns/name" -> record) and its label index points at the records themselves; the
// standalone cluster reads and marks the same objects. A record lives from the Pod's first
// valid definition until the Pod is removed: a new definition replaces its `pod`, not the
// record. At 100,000 Pods this is one Map entry and one small object per Pod, where there
// were two tables (the cluster's and the controller's), each with its own object per Pod.
//
// The object has three fields (48 bytes; with a field per flag and the timer it was 64, 1.6 MB
// more at 100,000 Pods): the two flags share one small integer, and the timer, which only a
// Pod in its grace period has, is kept beside the records (a WeakMap: a record dropped with
// its timer still set does not stay alive through it).
import type { Pod } from './pod.js';

const PRESENT = 1;
const TERMINATING = 2;

/** The grace-period timers of the records that have one. */
const timers = new WeakMap<PodRecord, NodeJS.Timeout>();
/** How many timers were set and not cleared: while none, `timer` reads need no lookup (the load reads it for every Pod). */
let timersSet = 0;

export class PodRecord {
  private flags: number;

  constructor(
    /** "namespace/name", the key of the controller's table. */
    readonly id: string,
    public pod: Pod,
    terminating: boolean,
  ) {
    this.flags = PRESENT | (terminating ? TERMINATING : 0);
  }

  /** Still defined in the folder (false: its file or definition vanished; it terminates). */
  get present(): boolean {
    return (this.flags & PRESENT) !== 0;
  }
  set present(v: boolean) {
    this.flags = v ? this.flags | PRESENT : this.flags & ~PRESENT;
  }

  /** Shown as terminating in its slices (deleted, or gone from the folder). */
  get terminating(): boolean {
    return (this.flags & TERMINATING) !== 0;
  }
  set terminating(v: boolean) {
    this.flags = v ? this.flags | TERMINATING : this.flags & ~TERMINATING;
  }

  /** The end of the grace period of a Pod that is going away (live use only). */
  get timer(): NodeJS.Timeout | null {
    return timersSet === 0 ? null : (timers.get(this) ?? null);
  }
  set timer(t: NodeJS.Timeout | null) {
    if (!t) {
      if (timers.delete(this)) timersSet--;
    } else {
      if (!timers.has(this)) timersSet++;
      timers.set(this, t);
    }
  }

  /** Ready as the manifest states it (one-shot use): its Ready condition, else ready. */
  get readyFromStatus(): boolean {
    return this.pod.statusReady ?? true;
  }
}
