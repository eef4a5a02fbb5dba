// Where the ebpf mode pins its maps and programs: one directory per cgroup it serves,
// <bpffs>/kproxy/<cgroup path relative to the cgroup2 mount, URI-encoded>, so that two
// kproxies serving different cgroups never share maps and `kproxy cleanup` can tell which
// cgroup each directory belongs to.
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cgroup2Mount } from '../../bpf/mounts.js';

export const PIN_ROOT = 'kproxy';

export function pinDir(bpffs: string, cgroupDir: string): string {
  const mount = cgroup2Mount();
  const rel = mount ? relative(mount, cgroupDir) : cgroupDir;
  return join(bpffs, PIN_ROOT, encodeURIComponent(rel));
}

/** Every pin directory under a bpffs with the cgroup directory it serves. */
export function pinDirs(bpffs: string): { dir: string; cgroup: string }[] {
  const root = join(bpffs, PIN_ROOT);
  if (!existsSync(root)) return [];
  const mount = cgroup2Mount() ?? '/';
  return readdirSync(root).map((name) => ({ dir: join(root, name), cgroup: join(mount, decodeURIComponent(name)) }));
}
