// Walks a manifests folder: every .yaml, .yml and .json file below it, hidden names skipped.
// Symbolic links are followed, also when they lead outside the folder (a ConfigMap mounted
// into a Pod is a tree of symlinks, and the operator owns the folder), but every directory is
// entered at most once, identified by device and inode: a link back up the tree (`loop -> .`)
// is skipped and reported instead of being walked until the path is too long (ELOOP).
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join, relative } from 'node:path';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

export interface FolderWalk {
  /** Manifest files, relative to the folder, in sorted walk order, with their stat. */
  files: Map<string, Stats>;
  /**
   * The directories walked (to watch them), each with its identity (`dev:ino`): a folder
   * replaced by another of the same name needs a new watch. The folder itself is always
   * there, with identity '' when it is not a directory (gone, or never made).
   */
  dirs: Map<string, string>;
  /** Paths (relative) skipped because they lead to a directory already walked, or cannot be read. */
  skipped: { path: string; reason: string }[];
}

export function walkManifestFolder(dir: string): FolderWalk {
  const out: FolderWalk = { files: new Map(), dirs: new Map(), skipped: [] };
  const entered = new Set<string>();
  const walk = (d: string, st: Stats) => {
    const id = `${st.dev}:${st.ino}`;
    if (entered.has(id)) {
      out.skipped.push({ path: relative(dir, d) || '.', reason: 'leads to a directory already read (a symlink loop or a second link to it); skipped' });
      return;
    }
    entered.add(id);
    out.dirs.set(d, id);
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch (e) {
      if (d !== dir) out.skipped.push({ path: relative(dir, d), reason: `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      let s: Stats | undefined;
      try {
        s = statSync(p, { throwIfNoEntry: false });
      } catch (e) {
        // ELOOP (a link to itself), EACCES, ENAMETOOLONG: this entry only.
        out.skipped.push({ path: relative(dir, p), reason: `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
        continue;
      }
      if (!s) continue;
      if (s.isDirectory()) walk(p, s);
      else if (s.isFile() && MANIFEST_FILE.test(name)) out.files.set(relative(dir, p), s);
    }
  };
  let top: Stats | undefined;
  try {
    top = statSync(dir, { throwIfNoEntry: false });
  } catch {
    top = undefined;
  }
  if (top?.isDirectory()) walk(dir, top);
  else out.dirs.set(dir, '');
  return out;
}
