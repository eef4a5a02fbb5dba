// Which proxy mode a command uses. As upstream, the default (no --proxy-mode, and `mode: ""`
// or no mode in the configuration file) is iptables. While a mode is not built into this
// kproxy, choosing it — or falling back to it by default — stops with a message that says
// what is built and what to pass, and names only what the user actually typed.
import type { Config, ProxyMode } from '../config/types.js';
import { availableModes } from '../dataplanes/registry.js';
import { ConfigError } from '../util/errors.js';

export const DEFAULT_MODE: ProxyMode = 'iptables';

const WHAT: Record<ProxyMode, string> = {
  userspace: 'a TCP/UDP proxy inside kproxy, no root needed',
  nftables: 'kernel rules in nftables, needs root',
  iptables: 'kernel rules in iptables, needs root',
  ipvs: 'the kernel IPVS load balancer, needs root',
  ebpf: 'eBPF socket load balancing, needs root',
};

/** The modes `kproxy run` can use: those with a dataplane in the registry. */
export function builtModes(): ProxyMode[] {
  return availableModes();
}

/**
 * Stops with a clear message unless cfg.mode is one of `supported` (for `run`: the built
 * modes; for `rules` and `trace`: the modes they can compile).
 */
export function requireMode(cfg: Config, supported: readonly ProxyMode[], command: string): void {
  if (supported.includes(cfg.mode)) return;
  const list = supported.length > 0 ? supported.map((m) => `${m} (${WHAT[m]})`).join(', ') : 'none';
  if (cfg.modeSource === 'default') {
    const file = cfg.configFile ? `, or mode: ${supported[0] ?? 'MODE'} in ${cfg.configFile}` : '';
    throw new ConfigError(
      '',
      `no proxy mode was chosen, and the default mode, ${cfg.mode}, is not built into this kproxy.\n` +
        `  ${command} works with: ${list}.\n` +
        `  Choose one: --proxy-mode ${supported[0] ?? 'MODE'}${file}.`,
    );
  }
  const where = cfg.modeSource === 'flag' ? '--proxy-mode' : 'mode';
  const built = builtModes();
  const state = built.includes(cfg.mode) ? `${command} does not support it` : 'it is not built into this kproxy';
  throw new ConfigError(where, `"${cfg.mode}": ${state}; ${command} works with: ${list}`);
}
