// What every dataplane offers the sync runner. A dataplane programs one ProxyState at a
// time, atomically: sync() either applies all of it or throws and leaves the previous
// programming in place. A full sync reprograms everything; a partial one may look only at
// state.changed and state.deleted.
import type { ProxyState } from '../model/types.js';

export interface Dataplane {
  readonly mode: string;
  sync(state: ProxyState, full: boolean): Promise<void>;
  /** Stops serving; leaves kernel state in place unless the dataplane is userspace. */
  close?(): Promise<void>;
}
