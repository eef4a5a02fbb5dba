// Allocations survive restarts in a small JSON file, so a Service keeps its cluster IP and
// node ports even when the hash of its name would now land elsewhere (because another
// Service took that spot while it was away, say). Default place:
// <manifests>/.kproxy-state/allocations.json — the folder reader skips dot-names, so the
// file never reads as a manifest. A folder that cannot be written is not fatal: allocation
// then lives in memory, and the hash still gives the same answers in the common case.
import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

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

export const STATE_DIR = '.kproxy-state';

export function allocationsPath(manifestsDir: string): string {
  return join(manifestsDir, STATE_DIR, 'allocations.json');
}

/** Reads the file; a missing or unreadable file is an empty state (with the reason). */
export function loadAllocations(path: string): { state: Map<string, ServiceAllocation>; problem: string | null } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { state: new Map(), problem: code === 'ENOENT' ? null : (e as Error).message };
  }
  try {
    const doc = JSON.parse(text) as Partial<AllocationFile>;
    const state = new Map<string, ServiceAllocation>();
    for (const [id, a] of Object.entries(doc.services ?? {})) {
      if (!a || typeof a !== 'object') continue;
      state.set(id, {
        clusterIPs: Array.isArray(a.clusterIPs) ? a.clusterIPs.filter((x) => typeof x === 'string') : [],
        nodePorts: a.nodePorts && typeof a.nodePorts === 'object' ? { ...a.nodePorts } : {},
        healthCheckNodePort: typeof a.healthCheckNodePort === 'number' ? a.healthCheckNodePort : 0,
      });
    }
    return { state, problem: null };
  } catch (e) {
    return { state: new Map(), problem: `${path} is not valid JSON (${(e as Error).message}); starting from an empty allocation state` };
  }
}

/**
 * Writes atomically (temporary file + rename): a crash never leaves half a file. The folder
 * is created with mode 0700 and must be a real directory owned by kproxy's user (not a
 * symlink someone planted); the temporary file has a fresh random name and is opened with
 * O_EXCL and O_NOFOLLOW, so nothing can redirect the write elsewhere.
 */
export function saveAllocations(path: string, state: ReadonlyMap<string, ServiceAllocation>): void {
  const doc: AllocationFile = { version: 1, services: Object.fromEntries([...state.entries()].sort(([a], [b]) => a.localeCompare(b))) };
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?); not writing allocations there`);
  if (process.getuid && st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user; not writing allocations there`);
  if ((st.mode & 0o022) !== 0) throw new Error(`${dir} is writable by others; not writing allocations there`);
  const tmp = join(dir, `.allocations-${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, JSON.stringify(doc, null, 1) + '\n');
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
