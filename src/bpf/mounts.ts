// Where the cgroup v2 hierarchy and a bpffs are mounted, read from /proc/mounts (never
// assumed: hybrid cgroup layouts put cgroup2 elsewhere than /sys/fs/cgroup), and a bpffs of
// kproxy's own when none is mounted.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

export interface Mount {
  source: string;
  target: string;
  type: string;
}

export function mounts(text = readFileSync('/proc/mounts', 'utf8')): Mount[] {
  // Fields are space-separated with octal escapes (\040 for a space) inside them.
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .map(([source, target, type]) => ({ source: unescape(source), target: unescape(target), type }));
}

export const cgroup2Mount = (list = mounts()): string | null => list.find((m) => m.type === 'cgroup2')?.target ?? null;
export const bpffsMount = (list = mounts()): string | null => list.find((m) => m.type === 'bpf')?.target ?? null;

/** Where kproxy mounts a bpffs of its own when the host has none. */
export const PRIVATE_BPFFS = '/run/kproxy/bpffs';

/** A mounted bpffs: the host's, or kproxy's own (mounted now if needed). */
export function ensureBpffs(): { path: string; mountedByKproxy: boolean } {
  const list = mounts();
  const own = list.find((m) => m.type === 'bpf' && m.target === PRIVATE_BPFFS);
  if (own) return { path: own.target, mountedByKproxy: true };
  const any = bpffsMount(list);
  if (any) return { path: any, mountedByKproxy: false };
  mkdirSync(PRIVATE_BPFFS, { recursive: true, mode: 0o700 });
  execFileSync('mount', ['-t', 'bpf', '-o', 'mode=0700', 'kproxy-bpffs', PRIVATE_BPFFS], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { path: PRIVATE_BPFFS, mountedByKproxy: true };
}

/**
 * Checks that DIR is a cgroup v2 directory below the cgroup2 mount and not its root (a
 * program on the root cgroup would load-balance every socket of the host). The canonical path,
 * or a sentence saying what is wrong.
 */
export function checkCgroupDir(dir: string, list = mounts()): { dir: string } | { error: string } {
  const mount = cgroup2Mount(list);
  if (!mount) return { error: 'no cgroup2 hierarchy is mounted (none in /proc/mounts)' };
  let real: string;
  try {
    real = realpathSync(resolve(dir));
  } catch {
    return { error: `${dir} does not exist (create it below ${mount}, e.g. mkdir ${mount}/kproxy-pods)` };
  }
  const rel = relative(mount, real);
  if (rel === '') return { error: `${dir} is the root cgroup: choose a child cgroup holding the workloads` };
  if (rel.startsWith('..') || isAbsolute(rel)) return { error: `${dir} is not below the cgroup2 mount ${mount}` };
  return { dir: real };
}
