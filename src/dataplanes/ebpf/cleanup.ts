// `kproxy cleanup` for the ebpf mode: for every pin directory kproxy made (on any mounted
// bpffs), detach its programs from the cgroup they serve, remove the pins (the kernel frees
// the maps and programs once nothing holds them), and unmount kproxy's own bpffs when it is
// left empty. Touches nothing kproxy did not pin.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { mounts, PRIVATE_BPFFS } from '../../bpf/mounts.js';
import type { ModeCleanup } from '../cleanup.js';
import { BpfProg, detachCgroup, openCgroup } from '../../bpf/prog.js';
import { PIN_ROOT, pinDirs } from './pins.js';
import { PROGRAMS } from './programs.js';

export function ebpfCleanup(): ModeCleanup {
  return {
    plan: () => '# ebpf: detach kproxy_* programs from the cgroups kproxy pinned them for, remove the pins under <bpffs>/kproxy, unmount /run/kproxy/bpffs if kproxy mounted it\n',
    run: async () => cleanupEbpf().map((l) => `ebpf: ${l}`),
  };
}

/** What was removed, one line each; `cgroupRoot` limits it to the pins serving that cgroup. */
export function cleanupEbpf(cgroupRoot?: string): string[] {
  const done: string[] = [];
  const only = cgroupRoot ? resolve(cgroupRoot) : null;
  for (const m of mounts().filter((x) => x.type === 'bpf')) {
    for (const { dir, cgroup } of pinDirs(m.target)) {
      if (only && resolve(cgroup) !== only) continue;
      const cgFd = existsSync(cgroup) ? openCgroup(cgroup) : -1;
      try {
        for (const def of PROGRAMS) {
          const path = join(dir, def.name);
          if (!existsSync(path)) continue;
          if (cgFd >= 0) {
            const prog = BpfProg.open(path, def.name, def.attachType);
            try {
              if (detachCgroup(cgFd, prog)) done.push(`detached ${def.name} (${def.attachType}) from ${cgroup}`);
            } finally {
              prog.close();
            }
          }
        }
      } finally {
        if (cgFd >= 0) closeSync(cgFd);
      }
      for (const name of readdirSync(dir)) {
        unlinkSync(join(dir, name));
        done.push(`unpinned ${join(dir, name)}`);
      }
      rmdirSync(dir);
    }
    const root = join(m.target, PIN_ROOT);
    if (existsSync(root) && readdirSync(root).length === 0) rmdirSync(root);
    // A fresh bpffs is not quite empty: the kernel puts its maps.debug and progs.debug there.
    if (m.target === PRIVATE_BPFFS && readdirSync(m.target).every((n) => n.endsWith('.debug'))) {
      execFileSync('umount', [m.target]);
      rmdirSync(m.target);
      if (readdirSync(dirname(m.target)).length === 0) rmdirSync(dirname(m.target));
      done.push(`unmounted ${m.target}`);
    }
  }
  return done;
}
