// Upstream kube-proxy tunes the kernel's connection tracking at start (nf_conntrack_max and
// the TCP/UDP timeouts). kproxy does the same, but only inside a network namespace other than
// the host's: it never changes the host's own network settings. In the host's namespace it
// says what it would have set and leaves everything as it is.
import { cpus } from 'node:os';
import type { Config } from '../config/types.js';
import { inOwnNetns } from '../util/netns.js';
import { PROC_SYS, readSysctlSync, sysctlName, writeSysctlSync } from '../util/sysctl.js';

export interface SysctlChange {
  name: string; // e.g. "net/netfilter/nf_conntrack_max"
  value: number;
}

/** The sysctls kube-proxy would set for this configuration (upstream's rules: 0 = leave as is). */
export function conntrackSysctls(c: Config['conntrack'], cores = cpus().length): SysctlChange[] {
  const out: SysctlChange[] = [];
  if (c.maxPerCore > 0) out.push({ name: 'net/netfilter/nf_conntrack_max', value: Math.max(c.maxPerCore * cores, c.min) });
  const secs = (ms: number) => Math.floor(ms / 1000);
  if (c.tcpEstablishedTimeoutMs > 0) out.push({ name: 'net/netfilter/nf_conntrack_tcp_timeout_established', value: secs(c.tcpEstablishedTimeoutMs) });
  if (c.tcpCloseWaitTimeoutMs > 0) out.push({ name: 'net/netfilter/nf_conntrack_tcp_timeout_close_wait', value: secs(c.tcpCloseWaitTimeoutMs) });
  if (c.tcpBeLiberal) out.push({ name: 'net/netfilter/nf_conntrack_tcp_be_liberal', value: 1 });
  if (c.udpTimeoutMs > 0) out.push({ name: 'net/netfilter/nf_conntrack_udp_timeout', value: secs(c.udpTimeoutMs) });
  if (c.udpStreamTimeoutMs > 0) out.push({ name: 'net/netfilter/nf_conntrack_udp_timeout_stream', value: secs(c.udpStreamTimeoutMs) });
  return out;
}

/** True unless this process can be shown to run in a network namespace other than the host's. */
export function inHostNetworkNamespace(): boolean {
  return !inOwnNetns();
}

export interface SysctlReport {
  applied: string[];
  skipped: string[];
}

/**
 * Writes the changes under procRoot (default /proc/sys, which is the calling process's own
 * network namespace). nf_conntrack_max is only raised, never lowered, as upstream. A value the
 * kernel refuses (nf_conntrack_max is read-only outside the initial namespace) is reported.
 */
export function applySysctls(changes: SysctlChange[], procRoot = PROC_SYS): SysctlReport {
  const report: SysctlReport = { applied: [], skipped: [] };
  for (const ch of changes) {
    const label = sysctlName(ch.name);
    let current: number;
    try {
      current = Number(readSysctlSync(ch.name, procRoot));
    } catch (e) {
      report.skipped.push(`${label}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is the nf_conntrack module loaded?`);
      continue;
    }
    if (current === ch.value || (ch.name.endsWith('nf_conntrack_max') && current >= ch.value)) continue;
    try {
      writeSysctlSync(ch.name, ch.value, procRoot);
      report.applied.push(`${label}=${ch.value} (was ${current})`);
    } catch (e) {
      report.skipped.push(`${label}=${ch.value}: the kernel refused (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); left at ${current}`);
    }
  }
  return report;
}
