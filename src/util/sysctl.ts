// Kernel settings under /proc/sys (of the calling process's network namespace), read and
// written one way by every caller: the iptables applier (route_localnet), the IPVS node set-up
// and the conntrack tuning at start. A key is written either way, `net.ipv4.ip_forward` (as
// the sysctl command and kube-proxy's messages spell it) or `net/ipv4/ip_forward` (the path).
// Straight from /proc: starting the sysctl command costs more than a sync's other steps.
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export const PROC_SYS = '/proc/sys';

/** The file of a sysctl key under root. */
export function sysctlPath(key: string, root = PROC_SYS): string {
  return `${root}/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
}

/** The dotted name of a key, for messages. */
export const sysctlName = (key: string): string => (key.includes('/') ? key.replace(/\//g, '.') : key);

/** A sysctl's value, trimmed; null when it cannot be read (no such key, module not loaded). */
export function readSysctl(key: string, root = PROC_SYS): Promise<string | null> {
  return readFile(sysctlPath(key, root), 'utf8').then(
    (v) => v.trim(),
    () => null,
  );
}

/** Sets a sysctl; rejects with the kernel's error (read-only, out of range, no such key). */
export function writeSysctl(key: string, value: string | number, root = PROC_SYS): Promise<void> {
  return writeFile(sysctlPath(key, root), `${value}\n`);
}

/** readSysctl for start-up code that runs before the event loop matters; throws when unreadable. */
export function readSysctlSync(key: string, root = PROC_SYS): string {
  return readFileSync(sysctlPath(key, root), 'utf8').trim();
}

/** writeSysctl, synchronously. */
export function writeSysctlSync(key: string, value: string | number, root = PROC_SYS): void {
  writeFileSync(sysctlPath(key, root), `${value}\n`);
}
