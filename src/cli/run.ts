// `kproxy run`: the proxy itself. Wires one source, the model, one dataplane, the sync
// runner, the health and metrics servers and the add-ons that follow the state (DNS, ...).
import type { Server } from 'node:http';
import type { Command } from 'commander';
import type { Config } from '../config/types.js';
import { createDataplane } from '../dataplanes/registry.js';
import { dnsAddon } from '../dns/addon.js';
import { ProxierHealth } from '../health/proxier.js';
import { startHealthServer } from '../health/server.js';
import { serviceHealthAddon } from '../health/servicehealth-addon.js';
import { loadBalancerAddon } from '../lb/addon.js';
import { ProxyMetrics } from '../metrics/metrics.js';
import { startMetricsServer } from '../metrics/server.js';
import { manifestsSource } from '../sources/manifests/source.js';
import type { Source, SourceContext } from '../sources/source.js';
import { SyncRunner } from '../sync/runner.js';
import { rulesPageAddon } from '../rules/addon.js';
import { RulesetStore } from '../rules/store.js';
import type { Addon, AddonFactory } from '../addons/addon.js';
import { dashboardAddon } from '../ui/addon.js';
import { bindFailure, formatObjectError } from '../util/errors.js';
import { refuseNodeConflicts } from '../config/refuse.js';
import { guardFileDescriptors } from '../util/fdlimit.js';
import { installProcessGuards } from '../util/guards.js';
import { createLogger } from '../util/log.js';
import { commandLauncher } from '../util/exec.js';
import { finishStop, stopSignal } from '../util/shutdown.js';
import { statusAddon } from './status-addon.js';
import { logStart, logStop, logSync } from './run-log.js';
import { startupChecks } from './startup.js';
import { builtModes, requireMode } from './mode.js';
import { preflight } from './preflight.js';
import { addKubeProxyProcessFlags, kubeProxyProcessFlags } from './kube-proxy-process-flags.js';
import { addConfigOptions, configFrom } from './options.js';
import { trackerFor } from './state.js';
import { releaseFullSyncPeak, releaseStartupPeak } from '../util/settle-memory.js';

/** Add-ons started by every `kproxy run`; each decides from the config whether it is on. */
export const addons: AddonFactory[] = [dnsAddon, serviceHealthAddon, rulesPageAddon, statusAddon, dashboardAddon];

export function registerRun(program: Command): void {
  const cmd = program.command('run').description('run the proxy: watch the source and program the dataplane');
  addKubeProxyProcessFlags(addConfigOptions(cmd)).action(async (opts) => {
    if (await kubeProxyProcessFlags(opts)) return;
    const cfg = configFrom(opts);
    requireMode(cfg, builtModes(), 'kproxy run');
    preflight(cfg);
    // A missing or broken kubeconfig ends here in one line, before any server starts.
    if (!cfg.manifests) (await import('../sources/kube/kubeconfig.js')).kubeConfigFor(cfg);
    await runProxy(cfg);
  });
}

async function createSource(ctx: SourceContext): Promise<Source> {
  if (ctx.config.manifests) return manifestsSource(ctx);
  // Loaded on demand: @kubernetes/client-node takes a second or more to import.
  const { kubeSource } = await import('../sources/kube/source.js');
  return kubeSource(ctx);
}

export async function runProxy(cfg: Config): Promise<void> {
  const log = createLogger(cfg.logVerbosity, process.stderr, cfg.logFormat);
  installProcessGuards(log);
  refuseNodeConflicts(cfg);
  const metrics = new ProxyMetrics({ processMetrics: true });
  await guardFileDescriptors(log, metrics.registry);
  const tracker = trackerFor(cfg, { persist: true, warn: (m) => log.warn(m) });
  logStart(log, cfg, tracker.current().node.name);
  await startupChecks(cfg, log);
  const rules = new RulesetStore();
  const dataplane = await createDataplane({ config: cfg, log, metrics, publishRuleset: rules.publish });
  const health = new ProxierHealth(2 * cfg.syncPeriodMs);
  const started: Addon[] = [];
  for (const f of addons) {
    const a = await f({ config: cfg, log, metrics, health, rules });
    if (a) started.push(a);
  }
  // LoadBalancer announcement follows the tracker's address management (see src/lb/).
  started.push(loadBalancerAddon({ config: cfg, log, metrics, health, tracker, requestSync: () => runner.requestSync() }));

  const reported = new Set<string>();
  let synced = 0;
  const runner = new SyncRunner({
    tracker,
    dataplane,
    minSyncPeriodMs: cfg.minSyncPeriodMs,
    syncPeriodMs: cfg.syncPeriodMs,
    metrics,
    health,
    onSynced: (state, info) => {
      for (const e of state.errors) {
        const line = formatObjectError(e);
        if (!reported.has(line)) log.error(line);
        reported.add(line);
      }
      for (const a of started) a.update(state);
      logSync(log, state, info, synced++ === 0);
      if (synced === 1)
        setImmediate(releaseStartupPeak); // the start-up peak's pages go back (settle-memory.ts)
      else if (info.full) releaseFullSyncPeak();
      // One fixed debug line per completed sync (--v 1): scripts and tests wait for it.
      log.debug({ generation: state.generation, full: info.full, ms: info.durationMs, changed: state.changed.size, deleted: state.deleted.size }, 'synced');
    },
    onError: (err, attempt) => {
      // the reason in one line; the stack (for a kproxy bug) only with --v 1 or more
      log.error({ err: err instanceof Error ? err.message : String(err), attempt }, 'sync failed; the previous rules stay in place, retrying');
      log.debug({ err }, 'sync failure, in full');
    },
  });

  const servers: Server[] = [];
  const bind = async (what: 'metrics' | 'healthz', address: string, start: () => Promise<Server>) => {
    if (!address) return;
    try {
      servers.push(await start());
      log.info({ address }, `${what} server listening`);
    } catch (e) {
      if (cfg.bindAddressHardFail) throw bindFailure(`--${what}-bind-address`, address, e);
      log.error({ address, err: (e as Error).message }, `${what} server cannot bind; continuing without it`);
    }
  };
  const routes = Object.assign({}, ...started.map((a) => a.routes ?? {}));
  await bind('metrics', cfg.metricsBindAddress, () => startMetricsServer(cfg.metricsBindAddress, metrics, routes));
  await bind('healthz', cfg.healthzBindAddress, () => startHealthServer(cfg.healthzBindAddress, health, metrics));

  const source = await createSource({ config: cfg, sink: tracker, changed: () => runner.requestSync(), log, health });
  await source.start();
  runner.start();
  // Which way commands start is looked up only for the debug line: choosing binds posix_spawn,
  // which a mode that runs no command (userspace) need not pay for at start.
  if (log.isLevelEnabled('debug')) log.debug({ mode: dataplane.mode, node: tracker.current().node.name, commands: commandLauncher() }, 'kproxy running');

  // The timers of the runner are unref'd: without this, a proxy with nothing to serve yet
  // (no sockets open) would let Node exit (code 13, unsettled top-level await).
  const keepAlive = setInterval(() => {}, 1 << 30);
  await stopSignal(log);
  clearInterval(keepAlive);
  log.info('stopping (signal received)');
  await source.stop();
  await runner.stop();
  await dataplane.close?.();
  for (const a of started) await a.close();
  for (const s of servers) {
    s.closeAllConnections(); // a keep-alive client must not hold the stop up
    await new Promise((r) => s.close(r));
  }
  logStop(log, dataplane.mode);
  finishStop();
}
