// A source delivers Kubernetes objects (Services, EndpointSlices, Nodes) into the change
// sink and says when something changed. Sources import nothing downstream of the model.
import type { Config } from '../config/types.js';
import type { ObjectSink } from './sink.js';
import type { Logger } from '../util/log.js';

export interface SourceContext {
  config: Config;
  sink: ObjectSink;
  /** Call after delivering any change: the sync runner coalesces calls. */
  changed: () => void;
  log: Logger;
  /** Told when the source loses and regains its API server (/healthz degrades meanwhile). */
  health?: { sourceDisconnected(): void; sourceConnected(): void };
}

export interface Source {
  /** Starts delivering; resolves once the initial list is complete (no empty first sync). */
  start(): Promise<void>;
  stop(): Promise<void>;
}
