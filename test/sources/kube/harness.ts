// Wires the kube source to a test API server and a change tracker, as `kproxy run` does.
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { ProxierHealth } from '../../../src/health/proxier.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import type { ProxyState } from '../../../src/model/types.js';
import { kubeSource, type KubeSourceOptions } from '../../../src/sources/kube/source.js';
import type { Source } from '../../../src/sources/source.js';
import { silentLogger } from '../../../src/util/log.js';
import { TestAPIServer, writeKubeconfig, type APIServerOptions } from './apiserver.js';

export const NODE = 'node-a';

export interface Harness {
  api: TestAPIServer;
  config: Config;
  tracker: ChangeTracker;
  source: Source;
  health: ProxierHealth;
  changes: () => number;
  /** A fresh snapshot of everything delivered so far. */
  state: () => ProxyState;
  close: () => Promise<void>;
}

export async function harness(
  opts: { api?: APIServerOptions; caPEM?: string; config?: (c: Config) => void; healthTimeoutMs?: number; startAPI?: boolean; source?: KubeSourceOptions } = {},
): Promise<Harness> {
  const api = new TestAPIServer(opts.api);
  await api.start();
  if (opts.startAPI === false) await api.stop(); // keeps its port: start() again later
  const config = defaultConfig();
  config.hostnameOverride = NODE;
  config.kubeconfig = writeKubeconfig(api.url, { caPEM: opts.caPEM ?? opts.api?.tls?.cert });
  config.clientConnection.qps = 0; // no client-side limit in functional tests
  opts.config?.(config);
  const tracker = new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.0.2.1'], serviceProxyName: config.serviceProxyName });
  const health = new ProxierHealth(opts.healthTimeoutMs ?? 60_000);
  let changes = 0;
  const source = kubeSource(
    { config, sink: tracker, changed: () => changes++, log: silentLogger(), health },
    { backoff: { initialMs: 20, maxMs: 100 }, watchTimeoutSeconds: () => 60, ...opts.source },
  );
  return {
    api,
    config,
    tracker,
    source,
    health,
    changes: () => changes,
    state: () => tracker.snapshot(),
    close: async () => {
      await source.stop();
      await api.stop();
    },
  };
}

/** Polls until check() returns true (re-evaluated on fresh state), or fails naming what. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** "ns/name:port" → sorted cluster endpoints, for every service port in the state. */
export function endpointsOf(state: ProxyState): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const sp of state.servicePorts.values()) out[`${sp.servicePortName}`] = (sp.clusterEndpoints ?? []).map((e) => e.endpoint).sort();
  return out;
}
