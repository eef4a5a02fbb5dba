// The dashboard: a read-only page at /ui/ on the metrics server (/ redirects there). It
// follows the ProxyState like any add-on and pushes what changes to the open pages over
// Server-Sent Events; details and traces are answered on request. It changes nothing.
import type { IncomingMessage } from 'node:http';
import type { AddonFactory } from '../addons/addon.js';
import type { Route } from '../metrics/server.js';
import type { ProxyState } from '../model/types.js';
import { ConfigError } from '../util/errors.js';
import { loadAssets, sendJSON, serveAsset, SECURITY_HEADERS } from './assets.js';
import { serviceDetail } from './detail.js';
import { EventHub } from './events.js';
import { HealthSampler, type HealthStatus } from './health.js';
import { packRow, ROW_FIELDS, RowTable } from './rows.js';
import { Tracer } from './trace.js';

const SAMPLE_MS = 5_000;

const readOnly =
  (route: Route): Route =>
  (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('the dashboard is read-only\n');
      return;
    }
    return route(req, res);
  };

const query = (req: IncomingMessage) => new URL(req.url ?? '/', 'http://x').searchParams;

export const dashboardAddon: AddonFactory = async ({ config, metrics, health, log, rules }) => {
  if (!config.metricsBindAddress) return null;
  const assets = loadAssets();
  const rows = new RowTable(config.clusterDomain);
  const hub = new EventHub(SECURITY_HEADERS);
  const sampler = new HealthSampler(metrics, health);
  const tracer = new Tracer(config, rules);
  let state: ProxyState | null = null;
  let status: HealthStatus = await sampler.current();
  // Health figures are read asynchronously; one at a time keeps "last sync" in order.
  let queue = Promise.resolve();
  const later = (f: () => Promise<void>) => {
    queue = queue.then(f).catch((e) => log.warn({ err: (e as Error).message }, 'dashboard: cannot read the health figures'));
  };

  await sampler.sample();
  const sampling = setInterval(() => later(async () => hub.broadcast('point', await sampler.sample())), SAMPLE_MS);
  sampling.unref();

  // The rows' JSON (1.5 MB for 10,000 service ports) is built once per change, not per page opened.
  let rowsJSON: string | null = null;
  const reset = () => {
    rowsJSON ??= JSON.stringify(rows.sorted().map(packRow));
    const rest = JSON.stringify({ fields: ROW_FIELDS, generation: state?.generation ?? 0, node: state?.node.name ?? '', mode: config.mode, status, points: sampler.points });
    return `event: reset\ndata: {"rows":${rowsJSON},${rest.slice(1)}\n\n`;
  };

  const routes: Record<string, Route> = {
    '/': (_req, res) => void res.writeHead(302, { ...SECURITY_HEADERS, Location: '/ui/' }).end(),
    '/ui': (_req, res) => void res.writeHead(301, { ...SECURITY_HEADERS, Location: '/ui/' }).end(),
    '/ui/events': (req, res) => hub.open(req, res, reset),
    '/ui/api/service': async (req, res) => {
      const key = query(req).get('key') ?? '';
      const sp = state?.servicePorts.get(key);
      if (!state || !sp) return sendJSON(res, 404, { error: `no service port ${JSON.stringify(key)}` });
      sendJSON(res, 200, await serviceDetail(state, sp, config));
    },
    '/ui/api/trace': async (req, res) => {
      if (!state) return sendJSON(res, 503, { error: 'no state synced yet' });
      try {
        sendJSON(res, 200, await tracer.trace(query(req), state));
      } catch (e) {
        // A bad packet names its field; a ruleset the walker cannot follow is said as is. Both
        // are answers about the packet (200), not failures of the page: the form shows them.
        const msg = e instanceof ConfigError ? `${e.field.replace(/^--/, '')}: ${e.reason}` : (e as Error).message;
        sendJSON(res, 200, { error: msg });
      }
    },
  };
  for (const [path, asset] of assets) routes[path] = (req, res) => serveAsset(asset, req, res);
  for (const path of Object.keys(routes)) routes[path] = readOnly(routes[path]);

  return {
    routes,
    update(next) {
      state = next;
      const patch = rows.update(next);
      if (patch) rowsJSON = null;
      if (patch) hub.broadcast('patch', { generation: next.generation, at: Date.now(), upsert: patch.upsert.map(packRow), remove: patch.remove }, next.generation);
      later(async () => {
        status = await sampler.synced(next);
        hub.broadcast('status', status);
      });
    },
    async close() {
      clearInterval(sampling);
      hub.close();
    },
  };
};
