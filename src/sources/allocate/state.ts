// Allocations survive restarts in a small JSON file, so a Service keeps its cluster IP and
// node ports even when the hash of its name would now land elsewhere (because another
// Service took that spot while it was away, say). Default place:
// <manifests>/.kproxy-state/allocations.json — the folder reader skips dot-names, so the
// file never reads as a manifest. A folder that cannot be written is not fatal: allocation
// then lives in memory, and the hash still gives the same answers in the common case.
import { join } from 'node:path';
import { readStateFile, STATE_DIR, writeStateFile } from '../../util/state-file.js';

export { STATE_DIR };

export interface ServiceAllocation {
  clusterIPs: string[];
  /** Node port by service port number (ports of one number share it across protocols). */
  nodePorts: Record<string, number>;
  healthCheckNodePort: number;
}

export interface AllocationFile {
  version: 1;
  services: Record<string, ServiceAllocation>; // by "namespace/name"
}

export function allocationsPath(manifestsDir: string): string {
  return join(manifestsDir, STATE_DIR, 'allocations.json');
}

/** Reads the file; a missing or unreadable file is an empty state (with the reason). */
export function loadAllocations(path: string): { state: Map<string, ServiceAllocation>; problem: string | null } {
  const { doc, problem } = readStateFile(path, 'an empty allocation state');
  const state = new Map<string, ServiceAllocation>();
  for (const [id, a] of Object.entries((doc as Partial<AllocationFile> | null)?.services ?? {})) {
    if (!a || typeof a !== 'object') continue;
    state.set(id, {
      clusterIPs: Array.isArray(a.clusterIPs) ? a.clusterIPs.filter((x) => typeof x === 'string') : [],
      nodePorts: a.nodePorts && typeof a.nodePorts === 'object' ? { ...a.nodePorts } : {},
      healthCheckNodePort: typeof a.healthCheckNodePort === 'number' ? a.healthCheckNodePort : 0,
    });
  }
  return { state, problem };
}

/**
 * Ids made only of lower-case letters, digits, '-', '.' and '/' (every Service's: its namespace
 * and name are DNS labels) sort by localeCompare as by their code units.
 */
const PLAIN_ID = /^[a-z0-9./-]*$/;

/** Writes the file atomically and safely (see writeStateFile), Services in localeCompare order. */
export function saveAllocations(path: string, state: ReadonlyMap<string, ServiceAllocation>): void {
  const ids = [...state.keys()];
  // The plain sort (code units) is several times faster; any other id: the collator.
  ids.sort(ids.every((id) => PLAIN_ID.test(id)) ? undefined : (a, b) => a.localeCompare(b));
  const doc: AllocationFile = { version: 1, services: Object.fromEntries(ids.map((id) => [id, state.get(id)!])) };
  writeStateFile(path, doc, 'allocations');
}
