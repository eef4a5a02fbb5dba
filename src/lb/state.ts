// LoadBalancer assignments survive restarts in standalone mode in a small JSON file beside
// the cluster IP allocations: <manifests>/.kproxy-state/loadbalancers.json. (In a cluster
// the Services' status.loadBalancer.ingress is the state, as for MetalLB.) Same rules as the
// allocations file: written atomically; unreadable or absent means an empty state.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Assignment } from './assign.js';

const STATE_DIR = '.kproxy-state';

export function assignmentsPath(manifestsDir: string): string {
  return join(manifestsDir, STATE_DIR, 'loadbalancers.json');
}

export function loadAssignments(path: string): { state: Map<string, Assignment>; problem: string | null } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { state: new Map(), problem: code === 'ENOENT' ? null : (e as Error).message };
  }
  try {
    const doc = JSON.parse(text) as { services?: Record<string, Partial<Assignment>> };
    const state = new Map<string, Assignment>();
    for (const [id, a] of Object.entries(doc.services ?? {})) {
      if (!a || !Array.isArray(a.ips) || typeof a.pool !== 'string') continue;
      state.set(id, { ips: a.ips.filter((x): x is string => typeof x === 'string'), pool: a.pool });
    }
    return { state, problem: null };
  } catch (e) {
    return { state: new Map(), problem: `${path} is not valid JSON (${(e as Error).message}); starting from no LoadBalancer assignments` };
  }
}

export function saveAssignments(path: string, state: ReadonlyMap<string, Assignment>): void {
  const doc = { version: 1, services: Object.fromEntries([...state.entries()].sort(([a], [b]) => a.localeCompare(b))) };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc, null, 1) + '\n');
  renameSync(tmp, path);
}
