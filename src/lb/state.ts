// LoadBalancer assignments survive restarts in standalone mode in a small JSON file beside
// the cluster IP allocations: <manifests>/.kproxy-state/loadbalancers.json. (In a cluster
// the Services' status.loadBalancer.ingress is the state, as for MetalLB.) The same reader and
// writer as the allocations file (src/util/state-file.ts): written atomically, never through
// a link; unreadable or absent means an empty state.
import { join } from 'node:path';
import { readStateFile, STATE_DIR, writeStateFile } from '../util/state-file.js';
import type { Assignment } from './assign.js';

export function assignmentsPath(manifestsDir: string): string {
  return join(manifestsDir, STATE_DIR, 'loadbalancers.json');
}

export function loadAssignments(path: string): { state: Map<string, Assignment>; problem: string | null } {
  const { doc, problem } = readStateFile(path, 'no LoadBalancer assignments');
  const state = new Map<string, Assignment>();
  for (const [id, a] of Object.entries((doc as { services?: Record<string, Partial<Assignment>> } | null)?.services ?? {})) {
    if (!a || !Array.isArray(a.ips) || typeof a.pool !== 'string') continue;
    state.set(id, { ips: a.ips.filter((x): x is string => typeof x === 'string'), pool: a.pool });
  }
  return { state, problem };
}

export function saveAssignments(path: string, state: ReadonlyMap<string, Assignment>): void {
  const doc = { version: 1, services: Object.fromEntries([...state.entries()].sort(([a], [b]) => a.localeCompare(b))) };
  writeStateFile(path, doc, 'LoadBalancer assignments');
}
