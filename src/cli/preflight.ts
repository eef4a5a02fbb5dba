// Checks before `kproxy run` starts anything: mistakes a user can fix end here in one line
// (exit 2), instead of a proxy that retries forever or serves nothing.
import type { Config } from '../config/types.js';
import { ConfigError } from '../util/errors.js';
import { hasNetAdmin } from './privilege.js';
import { requireModeTools } from './mode-tools.js';
import { checkManifestsDir } from './state.js';

export function preflight(cfg: Config): void {
  if (cfg.manifests) checkManifestsDir(cfg.manifests);
  if (cfg.mode !== 'userspace' && !hasNetAdmin()) {
    const chosen = cfg.modeSource === 'flag' ? `--proxy-mode ${cfg.mode}` : cfg.modeSource === 'file' ? `mode: ${cfg.mode} (${cfg.configFile})` : `the ${cfg.mode} mode`;
    throw new ConfigError('', `${chosen} programs the kernel and needs root (CAP_NET_ADMIN); run it as root, or use --proxy-mode userspace, which needs neither`);
  }
  requireModeTools(cfg.mode);
}
