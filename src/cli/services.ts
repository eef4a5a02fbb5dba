// `kproxy services`: the ProxyState as this node sees it, from a folder of manifests.
import type { Command } from 'commander';
import type { ProxyState, ServicePortState } from '../model/types.js';
import { formatObjectError } from '../util/errors.js';
import type { Announcement } from '../lb/announce.js';
import { loadOnce } from './state.js';
import { addConfigOptions, configFrom } from './options.js';

export function registerServices(program: Command): void {
  const cmd = program
    .command('services')
    .description('print every service port with its endpoints and traffic policies, and every rejected object')
    .option('--json', 'print the JSON form (see DESIGN.md)');
  addConfigOptions(cmd).action(async (opts) => {
    const cfg = configFrom(opts);
    const { state, tracker } = await loadOnce(cfg);
    const announced = tracker.lb.announcements(state.services, state.endpointSlices);
    process.stdout.write(opts.json ? JSON.stringify(servicesJSON(state, announced), null, 2) + '\n' : servicesTable(state, announced));
  });
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
    sessionAffinity: sp.sessionAffinity.type,
    sessionAffinityTimeoutSeconds: sp.sessionAffinity.type === 'ClientIP' ? sp.sessionAffinity.timeoutSeconds : 0,
    hasEndpoints: sp.hasEndpoints,
    clusterEndpoints: eps(sp.clusterEndpoints),
    localEndpoints: eps(sp.localEndpoints),
    allReachableEndpoints: eps(sp.allReachableEndpoints),
  };
}

export function servicesJSON(state: ProxyState, announced?: ReadonlyMap<string, Announcement>) {
  const services = [...state.servicePorts.values()]
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((sp) => servicePortJSON(sp, announced));
  return { node: state.node.name, services, errors: state.errors.map((e) => ({ ...e })) };
}

export function servicesTable(state: ProxyState, announced?: ReadonlyMap<string, Announcement>): string {
  const rows: string[][] = [['SERVICE', 'PROTO', 'CLUSTER-IP', 'PORT', 'NODEPORT', 'ITP', 'ETP', 'AFFINITY', 'ENDPOINTS (cluster)', 'LOCAL']];
  for (const sp of [...state.servicePorts.values()].sort((a, b) => a.key.localeCompare(b.key))) {
    const cluster = sp.clusterEndpoints === null ? '-' : eps(sp.clusterEndpoints).join(',') || (sp.hasEndpoints ? '(none usable)' : '(none)');
    const local = sp.localEndpoints === null ? '-' : eps(sp.localEndpoints).join(',') || '(none)';
    rows.push([
      sp.servicePortName,
      sp.protocol,
      sp.clusterIP,
      String(sp.port),
      sp.nodePort ? String(sp.nodePort) : '-',
      sp.internalTrafficPolicy,
      sp.externallyAccessible ? sp.externalTrafficPolicy : '-',
      sp.sessionAffinity.type === 'ClientIP' ? `ClientIP/${sp.sessionAffinity.timeoutSeconds}s` : 'None',
      cluster,
      local,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  let out = `node: ${state.node.name}\n` + rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
  if (announced && announced.size > 0) {
    out += '\nLoadBalancer addresses:\n';
    for (const a of [...announced.values()].sort((x, y) => x.ip.localeCompare(y.ip))) {
      out += `  ${a.ip}  ${a.services.join(',')}  pool ${a.pool || '-'}  ${a.node ? `announced by ${a.node}` : `not announced: ${a.reason}`}\n`;
    }
  }
  if (state.errors.length > 0) {
    out += `\n${state.errors.length} rejected object(s):\n` + state.errors.map((e) => `  ${formatObjectError(e)}\n`).join('');
  }
  return out;
}
