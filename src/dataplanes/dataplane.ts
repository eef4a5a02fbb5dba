// What every dataplane offers the sync runner, and what it is given. A dataplane programs one
// ProxyState at a time, atomically: sync() either applies all of it or throws and leaves the
// previous programming in place. A full sync reprograms everything; a partial one may look
// only at state.changed and state.deleted. It translates the model's decisions (endpoint
// sets, reject/drop, short-circuit, allowed sources); it never makes them again.
import type { Config } from '../config/types.js';
import type { ProxyMetrics } from '../metrics/metrics.js';
import type { ProxyState } from '../model/types.js';
import type { Logger } from '../util/log.js';

export interface Dataplane {
  readonly mode: string;
  sync(state: ProxyState, full: boolean): Promise<void>;
  /** Stops serving; leaves kernel state in place unless the dataplane is userspace. */
  close?(): Promise<void>;
}

/** The ruleset a dataplane last committed, as `kproxy rules` prints it (the /rules page, `kproxy trace --live`). */
export interface AppliedRuleset {
  /** The --proxy-mode whose interpreter reads `render()`'s text. */
  mode: string;
  /** When the transaction that produced this ruleset succeeded. */
  appliedAt: Date;
  /** ProxyState generation it was built from. */
  generation: number;
  node: string;
  /** The node's addresses (what "local" means to the tracer). */
  nodeAddresses: readonly string[];
  /** The whole ruleset as committed, rendered only when someone asks for it. */
  render: () => string;
  /**
   * The same text in chunks (strings, or UTF-8 bytes), for a reader that must not hold the
   * event loop for the whole render (the /rules page): empty chunks mark where it may pause,
   * at most about RENDER_SLICE_PORTS service ports' work apart. Absent: the reader calls render().
   */
  chunks?: () => Iterable<string | Uint8Array>;
}

/** Service ports compiled between two pauses of a sliced render (a few ms of work at most). */
export const RENDER_SLICE_PORTS = 16;

export interface DataplaneContext {
  config: Config;
  log: Logger;
  metrics: ProxyMetrics;
  /** Where the applier publishes what it committed; absent when nobody listens. */
  publishRuleset?: (r: AppliedRuleset) => void;
}
