// Pages on the metrics server that show what the running proxy does, in every mode:
//   /proxyMode  the mode, as kube-proxy serves it;
//   /configz    the configuration in effect (KubeProxyConfiguration form), as kube-proxy;
//   /services   the ProxyState of the last sync, in `kproxy services --json` form plus the
//               mode, the source, and each endpoint's conditions (`kproxy services --live`);
import { configz } from '../config/configz.js';
import type { ProxyState } from '../model/types.js';
import type { AddonFactory } from '../addons/addon.js';
import { servicesJSON } from './services.js';

export interface LiveServicesJSON extends ReturnType<typeof servicesJSON> {
  mode: string;
  source: string;
  generation: number;
  syncedAt: string;
  /** Per service port key: each endpoint with its conditions (readiness follows the probes in standalone mode). */
  endpointConditions: Record<string, { endpoint: string; ready: boolean; serving: boolean; terminating: boolean; nodeName: string }[]>;
}

export function sourceDescription(cfg: { manifests: string; kubeconfig: string; master: string }): string {
  if (cfg.manifests) return `manifests folder ${cfg.manifests} (kproxy allocates, probes Pods and writes EndpointSlices)`;
  if (cfg.kubeconfig) return `Kubernetes API server from kubeconfig ${cfg.kubeconfig}${cfg.master ? ` (master ${cfg.master})` : ''}`;
  return `Kubernetes API server (in-cluster service account${cfg.master ? `, master ${cfg.master}` : ''})`;
}

export const statusAddon: AddonFactory = async ({ config }) => {
  let last: { state: ProxyState; at: Date } | null = null;
  const json = (body: unknown) => JSON.stringify(body, null, 2) + '\n';
  return {
    routes: {
      '/proxyMode': (_req, res) => void res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end(config.mode),
      '/configz': (_req, res) => void res.writeHead(200, { 'Content-Type': 'application/json' }).end(json(configz(config))),
      '/services': (_req, res) => {
        if (!last) return void res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('no sync has completed yet\n');
        const { state, at } = last;
        const body: LiveServicesJSON = {
          ...servicesJSON(state),
          mode: config.mode,
          source: sourceDescription(config),
          generation: state.generation,
          syncedAt: at.toISOString(),
          endpointConditions: Object.fromEntries(
            [...state.servicePorts.values()].map((sp) => [
              sp.key,
              sp.endpoints.map((e) => ({ endpoint: e.endpoint, ready: e.ready, serving: e.serving, terminating: e.terminating, nodeName: e.nodeName ?? '' })),
            ]),
          ),
        };
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(json(body));
      },
    },
    update(state) {
      last = { state, at: new Date() };
    },
    async close() {},
  };
};
