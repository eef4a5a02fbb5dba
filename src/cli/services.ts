// `kproxy services`: the ProxyState as this node sees it, from a folder of manifests, or from
// a running kproxy (--live: its /services page on --metrics-bind-address), in every mode.
import type { Command } from 'commander';
import type { ProxyState, ServicePortState } from '../model/types.js';
import type { Announcement } from '../lb/announce.js';
import { ConfigError, formatObjectError } from '../util/errors.js';
import { dialable } from './dial.js';
import { loadOnce } from './state.js';
import { addConfigOptions, configFrom } from './options.js';

export function registerServices(program: Command): void {
  const cmd = program
    .command('services')
    .description('print every service port with its endpoints and traffic policies, and every rejected object')
    .option('--live', 'ask a running kproxy (its /services page on --metrics-bind-address) instead of reading --manifests')
    .option('--json', 'print one JSON object (its fields: docs/troubleshooting.md)');
  addConfigOptions(cmd, 'services').action(async (opts) => {
    const cfg = configFrom(opts);
    let out: ServicesJSON;
    if (opts.live) out = await liveServices(cfg.metricsBindAddress);
    else if (!cfg.manifests) throw new ConfigError('--manifests', 'required (or --live, to ask a running kproxy): the folder of Kubernetes YAML to read');
    else {
      const { state, tracker } = await loadOnce(cfg);
      out = servicesJSON(state, tracker.lb.announcements(state.services, state.endpointSlices));
    }
    process.stdout.write(opts.json ? JSON.stringify(out, null, 2) + '\n' : servicesTable(out));
  });
}

async function liveServices(bind: string): Promise<ServicesJSON> {
  if (!bind) throw new ConfigError('--metrics-bind-address', 'needed by --live: where the running kproxy serves /services');
  const url = `http://${dialable(bind)}/services`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ConfigError('--live', `cannot reach ${url}: ${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message} (is kproxy run serving metrics there?)`);
  }
  if (!res.ok) throw new ConfigError('--live', `${url} answered ${res.status}: ${(await res.text()).trim()}`);
  return (await res.json()) as ServicesJSON;
}

const eps = (list: readonly { endpoint: string }[] | null) => (list ?? []).map((e) => e.endpoint).sort();

/** Which node announces each LoadBalancer address of the port (null: nobody, see the reason). */
function announcedBy(sp: ServicePortState, announced?: ReadonlyMap<string, Announcement>): Record<string, string | null> {
  return Object.fromEntries(sp.loadBalancerIPs.map((ip) => [ip, announced?.get(ip)?.node ?? null]));
}

export function servicePortJSON(sp: ServicePortState, announced?: ReadonlyMap<string, Announcement>) {
  return {
    namespace: sp.namespace,
    name: sp.name,
    portName: sp.portName,
    protocol: sp.protocol,
    family: sp.family,
    type: sp.type,
    port: sp.port,
    nodePort: sp.nodePort,
    clusterIPs: [sp.clusterIP],
    externalIPs: [...sp.externalIPs],
    loadBalancerIPs: [...sp.loadBalancerIPs],
    announcedBy: announcedBy(sp, announced),
    internalTrafficPolicy: sp.internalTrafficPolicy,
    externalTrafficPolicy: sp.externalTrafficPolicy,
    externallyAccessible: sp.externallyAccessible,
    sessionAffinity: sp.sessionAffinity.type,
    sessionAffinityTimeoutSeconds: sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.timeoutSeconds : 0,
    hasEndpoints: sp.hasEndpoints,
    clusterEndpoints: eps(sp.clusterEndpoints),
    localEndpoints: eps(sp.localEndpoints),
    allReachableEndpoints: eps(sp.allReachableEndpoints),
    /** null: the policies do not need this set (see DESIGN.md). */
    clusterEndpointsApply: sp.clusterEndpoints !== null,
    localEndpointsApply: sp.localEndpoints !== null,
  };
}

/** Services that get no proxying, only DNS records: headless and ExternalName. */
export function dnsOnlyJSON(state: ProxyState) {
  return [...state.services.values()]
    .filter((s) => s.type === 'ExternalName' || s.headless)
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
    .map((s) => ({ namespace: s.namespace, name: s.name, kind: s.type === 'ExternalName' ? 'ExternalName' : 'headless', externalName: s.externalName }));
}

export function servicesJSON(state: ProxyState, announced?: ReadonlyMap<string, Announcement>) {
  const services = [...state.servicePorts.values()].sort((a, b) => a.key.localeCompare(b.key)).map((sp) => servicePortJSON(sp, announced));
  const loadBalancers = [...(announced?.values() ?? [])].sort((x, y) => x.ip.localeCompare(y.ip)).map((a) => ({ ip: a.ip, services: a.services, pool: a.pool, node: a.node, reason: a.reason }));
  return { node: state.node.name, services, dnsOnly: dnsOnlyJSON(state), loadBalancers, errors: state.errors.map((e) => ({ ...e })) };
}

export type ServicesJSON = ReturnType<typeof servicesJSON> & { mode?: string; source?: string; syncedAt?: string };

export function servicesTable(out: ServicesJSON): string {
  const rows: string[][] = [['SERVICE', 'PROTO', 'CLUSTER-IP', 'PORT', 'NODEPORT', 'ITP', 'ETP', 'AFFINITY', 'ENDPOINTS (cluster)', 'LOCAL']];
  for (const sp of out.services) {
    const cluster = sp.clusterEndpointsApply === false ? '-' : sp.clusterEndpoints.join(',') || (sp.hasEndpoints ? '(none usable)' : '(none)');
    const local = sp.localEndpointsApply === false ? '-' : sp.localEndpoints.join(',') || '(none)';
    rows.push([
      `${sp.namespace}/${sp.name}${sp.portName ? `:${sp.portName}` : ''}`,
      sp.protocol,
      sp.clusterIPs[0] ?? '',
      String(sp.port),
      sp.nodePort ? String(sp.nodePort) : '-',
      sp.internalTrafficPolicy,
      sp.externallyAccessible ? sp.externalTrafficPolicy : '-',
      sp.sessionAffinity === 'ClientIP' ? `ClientIP/${sp.sessionAffinityTimeoutSeconds}s` : 'None',
      cluster,
      local,
    ]);
  }
  for (const d of out.dnsOnly ?? []) {
    rows.push([`${d.namespace}/${d.name}`, '-', 'None', '-', '-', '-', '-', '-', d.kind === 'ExternalName' ? `(DNS only: CNAME ${d.externalName})` : '(DNS only: headless, the Pod IPs)', '-']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const head = out.mode ? `node: ${out.node}  mode: ${out.mode}  synced: ${out.syncedAt}\nsource: ${out.source}\n` : `node: ${out.node}\n`;
  let text =
    head +
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') +
    '\n';
  if ((out.loadBalancers ?? []).length > 0) {
    text += '\nLoadBalancer addresses:\n';
    for (const a of out.loadBalancers) text += `  ${a.ip}  ${a.services.join(',')}  pool ${a.pool || '-'}  ${a.node ? `announced by ${a.node}` : `not announced: ${a.reason}`}\n`;
  }
  if (out.errors.length > 0) {
    text += `\n${out.errors.length} rejected object(s):\n` + out.errors.map((e) => `  ${formatObjectError(e)}\n`).join('');
  }
  return text;
}
