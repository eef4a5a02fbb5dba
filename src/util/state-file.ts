// kproxy's small JSON state files in standalone mode (<manifests>/.kproxy-state/): cluster IP
// and node port allocations, LoadBalancer assignments. One reader and one writer, so every
// file gets the same care: read leniently (absent = empty), written atomically and never
// through a link someone planted.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsReason } from './errors.js';

/** The folder below the manifests folder (the folder reader skips dot-names). */
export const STATE_DIR = '.kproxy-state';

/**
 * The parsed document, or null: absent (problem null), unreadable or not JSON (problem says
 * why, `empty` names what the caller starts from instead).
 */
export function readStateFile(path: string, empty: string): { doc: unknown; problem: string | null } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { doc: null, problem: null };
    // The path is said once, at the front.
    return { doc: null, problem: `cannot read ${path} (${fsReason(e)}); starting from ${empty}` };
  }
  try {
    return { doc: JSON.parse(text) as unknown, problem: null };
  } catch (e) {
    return { doc: null, problem: `${path} is not valid JSON (${(e as Error).message}); starting from ${empty}` };
  }
}

/**
 * Writes atomically (temporary file + rename): a crash never leaves half a file. The folder
 * is created with mode 0700 and must be a real directory owned by kproxy's user (not a
 * symlink someone planted); the temporary file has a fresh random name and is opened with
 * O_EXCL and O_NOFOLLOW, so nothing can redirect the write elsewhere. `what` names the
 * content in errors.
 */
export function writeStateFile(path: string, doc: unknown, what: string): void {
  const dir = dirname(path);
  // Not recursive: a manifests folder that was deleted is not made again by kproxy (it would
  // stand in the way of the folder put in its place).
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${dirname(dir)} does not exist; not writing ${what}`);
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?); not writing ${what} there`);
  if (process.getuid && st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user; not writing ${what} there`);
  if ((st.mode & 0o022) !== 0) throw new Error(`${dir} is writable by others; not writing ${what} there`);
  const tmp = join(dir, `.${basename(path, '.json')}-${randomBytes(8).toString('hex')}.tmp`);
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
