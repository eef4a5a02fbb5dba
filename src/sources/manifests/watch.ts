// Watches a folder of manifests: one fs.watch (inotify) per directory, because recursive
// fs.watch on Linux is a userspace emulation in Node 20 that has missed new
// subdirectories. Any event schedules a rescan after a short debounce; the rescan compares
// each manifest file's (size, mtime, ctime, inode) with the last one seen and reports the
// files that changed or vanished. Editors that save by rename, files moved in and out, new
// subdirectories: all look the same to a rescan. If a watch cannot be set up (inotify
// limits), the folder is polled instead. A directory that goes away takes its inotify watch
// with it, and one put in its place (rm -rf DIR; cp -r new DIR) would never be watched: each
// watch is kept with the identity (dev:ino) of the directory it is on and made again when that
// changes, and while the folder itself is gone it is looked for every pollMs.
import { watch, type FSWatcher } from 'node:fs';
import { walkManifestFolder } from './walk.js';

export interface FolderChanges {
  changed: string[]; // added or modified, relative to the folder
  removed: string[];
}

export interface WatcherOptions {
  debounceMs?: number;
  /** Poll interval when watching is impossible. */
  pollMs?: number;
  onError?: (message: string) => void;
}

export class FolderWatcher {
  private readonly files = new Map<string, string>(); // relative path -> stat signature
  private readonly watchers = new Map<string, { w: FSWatcher; id: string }>(); // dir -> its watch and the dev:ino watched
  private timer: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  /** Why the folder is polled: watches cannot be set up (for good), or the folder is gone (until it is back). */
  private pollFor: 'inotify' | 'gone' | null = null;
  private stopped = false;
  private skipped = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly onChange: (c: FolderChanges) => void,
    private readonly opts: WatcherOptions = {},
  ) {}

  /** Starts watching; returns the manifest files present now (sorted). */
  start(): string[] {
    const { changed } = this.scan();
    return changed;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    for (const { w } of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** Looks at the folder now and reports what changed since the last look. */
  rescan(): void {
    if (this.stopped) return;
    const c = this.scan();
    if (c.changed.length > 0 || c.removed.length > 0) this.onChange(c);
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.rescan();
    }, this.opts.debounceMs ?? 100);
  }

  private scan(): FolderChanges {
    const walked = walkManifestFolder(this.dir);
    const seen = new Map<string, string>();
    for (const [f, st] of walked.files) seen.set(f, `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`);
    this.reportSkipped(walked.skipped);
    this.watchDirs(walked.dirs);
    const changed: string[] = [];
    const removed: string[] = [];
    for (const [f, sig] of seen) if (this.files.get(f) !== sig) changed.push(f);
    for (const f of this.files.keys()) if (!seen.has(f)) removed.push(f);
    this.files.clear();
    for (const [f, sig] of seen) this.files.set(f, sig);
    return { changed, removed };
  }

  /** Each skipped path is reported once, until it stops being skipped. */
  private reportSkipped(skipped: { path: string; reason: string }[]): void {
    const now = new Set<string>();
    for (const s of skipped) {
      const line = `${s.path}: ${s.reason}`;
      now.add(line);
      if (!this.skipped.has(line)) this.opts.onError?.(line);
    }
    this.skipped = now;
  }

  private watchDirs(dirs: Map<string, string>): void {
    for (const [d, { w, id }] of this.watchers) {
      if (dirs.get(d) === id) continue;
      w.close();
      this.watchers.delete(d);
    }
    const pollMs = this.opts.pollMs ?? 1000;
    if (dirs.get(this.dir) === '') {
      if (this.pollFor === null) {
        this.opts.onError?.(`${this.dir}: the folder is gone; its objects are removed until it is back (looked for every ${pollMs} ms)`);
        this.startPolling('gone');
      }
      return;
    }
    if (this.pollFor === 'gone') this.stopPolling(); // back: watched again
    if (this.poll) return;
    for (const [d, id] of dirs) {
      if (this.watchers.has(d)) continue;
      try {
        const w = watch(d, { persistent: true }, () => this.schedule());
        w.on('error', () => {
          // The directory went away (its parent's rescan drops it) or inotify failed.
          w.close();
          this.watchers.delete(d);
          this.schedule();
        });
        this.watchers.set(d, { w, id });
      } catch (e) {
        this.opts.onError?.(`cannot watch ${d} (${(e as Error).message}); polling the folder every ${pollMs} ms instead`);
        for (const { w } of this.watchers.values()) w.close();
        this.watchers.clear();
        this.startPolling('inotify');
        return;
      }
    }
  }

  private startPolling(why: 'inotify' | 'gone'): void {
    this.stopPolling();
    this.pollFor = why;
    this.poll = setInterval(() => this.rescan(), this.opts.pollMs ?? 1000);
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.pollFor = null;
  }
}
