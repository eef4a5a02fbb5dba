// Whether this kernel can run IPVS mode, as kube-proxy checks before it starts the IPVS
// proxier: the ip_vs module (loaded now if it is not), and the programs IPVS mode drives.
import { existsSync } from 'node:fs';
import { onPath as installed, SYSTEM_DIRS } from '../../util/on-path.js';
import type { Exec } from './exec.js';

const TOOLS: [string, string][] = [
  ['ipvsadm', 'ipvsadm'],
  ['ipset', 'ipset'],
  ['iptables-restore', 'iptables'],
  ['ip', 'iproute2'],
];

const onPath = (bin: string) => installed(bin, process.env.PATH, SYSTEM_DIRS);

/** Why IPVS mode cannot run here, or null when it can. */
export async function ipvsUnavailable(run: Exec, procNetIpVs = '/proc/net/ip_vs'): Promise<string | null> {
  for (const [bin, pkg] of TOOLS) if (!onPath(bin)) return `the program ${bin} is not installed (package ${pkg})`;
  if (!existsSync(procNetIpVs)) {
    let why = 'modprobe is not installed';
    if (onPath('modprobe')) {
      const r = await run('modprobe', ['ip_vs']);
      why = r.code === 0 ? 'modprobe ip_vs succeeded but the kernel still shows no IPVS' : `modprobe ip_vs: ${r.stderr.trim() || `exit ${r.code}`}`;
    }
    if (!existsSync(procNetIpVs)) return `the kernel has no IPVS (${procNetIpVs} does not exist; ${why})`;
  }
  const r = await run('ipvsadm', ['-L', '-n']);
  if (r.code !== 0) return `ipvsadm cannot read the IPVS table: ${r.stderr.trim() || `exit ${r.code}`}`;
  return null;
}
