// What a source writes into: the objects it delivers and the problems it finds. Declared
// here, on the sources' side, so that sources depend on no part of the model; kproxy run
// hands them the model's change tracker, which satisfies it.
import type { EndpointSlice, KubeObject } from '../api/types.js';
import type { ObjectError } from '../util/errors.js';

/** LoadBalancer address management also reads MetalLB's IPAddressPool and L2Advertisement, and node Leases. */
export type SinkKind = 'Service' | 'EndpointSlice' | 'Node' | 'IPAddressPool' | 'L2Advertisement' | 'Lease';

export interface ObjectSink {
  /**
   * Adds or replaces an object (objects of kinds the sink does not handle are ignored).
   * Returns the object's validation error, if any; a valid earlier version keeps working.
   */
  upsert(o: KubeObject): ObjectError | null;
  /**
   * Optional: adds or replaces an EndpointSlice given in the model's validated form (see
   * validateEndpointSlice), for producers that build slices from validated objects and so
   * need no second validation. The sink keeps the object; the producer never changes it.
   */
  upsertEndpointSlice?(slice: EndpointSlice): void;
  delete(kind: SinkKind, namespace: string, name: string): void;
  /** A problem the source found with an object or a file (reported until cleared). */
  reportError(e: ObjectError): void;
  clearError(kind: string, namespace: string, name: string): void;
}
