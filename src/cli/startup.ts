// What `kproxy run` does once at start before syncing: the process's OOM score (as kube-proxy),
// the conntrack sysctls (kernel modes, inside a non-host network namespace only), and one
// log line per given setting that has no effect in the chosen mode.
import { writeFileSync } from 'node:fs';
import type { Config } from '../config/types.js';
import { settingsWithoutEffect } from '../config/effect.js';
import { applySysctls, conntrackSysctls, inHostNetworkNamespace } from '../conntrack/sysctls.js';
import type { Logger } from '../util/log.js';

export async function startupChecks(cfg: Config, log: Logger): Promise<void> {
  for (const line of settingsWithoutEffect(cfg)) log.warn(line);
  setOOMScoreAdj(cfg, log);
  if (cfg.mode !== 'userspace') tuneConntrack(cfg, log);
}

function setOOMScoreAdj(cfg: Config, log: Logger): void {
  try {
    writeFileSync('/proc/self/oom_score_adj', `${cfg.oomScoreAdj}\n`);
    log.debug({ oomScoreAdj: cfg.oomScoreAdj }, 'oom_score_adj set');
  } catch (e) {
    // Lowering it needs CAP_SYS_RESOURCE; not fatal, as upstream.
    log.info({ oomScoreAdj: cfg.oomScoreAdj, err: (e as Error).message }, 'cannot set oom_score_adj; left as it is');
  }
}

function tuneConntrack(cfg: Config, log: Logger): void {
  const changes = conntrackSysctls(cfg.conntrack);
  if (changes.length === 0) return;
  if (inHostNetworkNamespace()) {
    const what = changes.map((c) => `${c.name.replace(/\//g, '.')}=${c.value}`).join(', ');
    log.info(`conntrack settings not applied: kproxy never changes sysctls in the host's network namespace (would set ${what})`);
    return;
  }
  const r = applySysctls(changes);
  if (r.applied.length > 0) log.info(`conntrack sysctls set in this network namespace: ${r.applied.join(', ')}`);
  for (const s of r.skipped) log.warn(`conntrack sysctl not set: ${s}`);
}
