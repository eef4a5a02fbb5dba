// One row of the dashboard's Services table per service port: what an operator scans for
// (addresses, policies, endpoint counts). Computed from the ProxyState only; the page never
// sees the state itself.
import type { Endpoint, ProxyState, ServicePortState } from '../model/types.js';

export interface ServiceRow {
  key: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: string;
  family: string;
  type: string;
  clusterIP: string;
  port: number;
  nodePort: number;
  externalIPs: readonly string[];
  loadBalancerIPs: readonly string[];
  internalTrafficPolicy: string;
  externalTrafficPolicy: string;
  affinity: string;
  dnsName: string;
  endpoints: number;
  ready: number;
  serving: number;
  terminating: number;
  local: number;
  remote: number;
}

const count = (eps: readonly Endpoint[], f: (e: Endpoint) => boolean) => {
  let n = 0;
  for (const e of eps) if (f(e)) n++;
  return n;
};

export function serviceRow(sp: ServicePortState, zone: string): ServiceRow {
  const eps = sp.endpoints;
  return {
    key: sp.key,
    namespace: sp.namespace,
    name: sp.name,
    portName: sp.portName,
    protocol: sp.protocol,
    family: sp.family,
    type: sp.type,
    clusterIP: sp.clusterIP,
    port: sp.port,
    nodePort: sp.nodePort,
    externalIPs: sp.externalIPs,
    loadBalancerIPs: sp.loadBalancerIPs,
    internalTrafficPolicy: sp.internalTrafficPolicy,
    externalTrafficPolicy: sp.externalTrafficPolicy,
    affinity: sp.sessionAffinity.type === 'ClientIP' ? `ClientIP ${sp.sessionAffinity.timeoutSeconds}s` : 'None',
    dnsName: `${sp.name}.${sp.namespace}.svc.${zone}`.toLowerCase(),
    endpoints: eps.length,
    ready: count(eps, (e) => e.ready),
    serving: count(eps, (e) => e.serving),
    terminating: count(eps, (e) => e.terminating),
    local: count(eps, (e) => e.isLocal),
    remote: count(eps, (e) => !e.isLocal),
  };
}

/** The order of a row's values on the wire: rows travel as arrays, which halves the JSON. */
export const ROW_FIELDS: readonly (keyof ServiceRow)[] = [
  'key',
  'namespace',
  'name',
  'portName',
  'protocol',
  'family',
  'type',
  'clusterIP',
  'port',
  'nodePort',
  'externalIPs',
  'loadBalancerIPs',
  'internalTrafficPolicy',
  'externalTrafficPolicy',
  'affinity',
  'dnsName',
  'endpoints',
  'ready',
  'serving',
  'terminating',
  'local',
  'remote',
];

export const packRow = (r: ServiceRow): unknown[] => ROW_FIELDS.map((f) => r[f]);

/** What changed between two snapshots: service ports are shared when unchanged, so identity tells. */
export interface RowPatch {
  upsert: ServiceRow[];
  remove: string[];
}

export class RowTable {
  private ports = new Map<string, ServicePortState>();
  private rows = new Map<string, ServiceRow>();

  constructor(private readonly zone: string) {}

  /** Takes the new state; returns the rows to send (null when nothing changed). */
  update(state: ProxyState): RowPatch | null {
    const upsert: ServiceRow[] = [];
    const remove: string[] = [];
    for (const [key, sp] of state.servicePorts) {
      if (this.ports.get(key) === sp) continue;
      this.ports.set(key, sp);
      const row = serviceRow(sp, this.zone);
      this.rows.set(key, row);
      upsert.push(row);
    }
    if (this.ports.size > state.servicePorts.size) {
      for (const key of this.ports.keys()) {
        if (state.servicePorts.has(key)) continue;
        this.ports.delete(key);
        this.rows.delete(key);
        remove.push(key);
      }
    }
    return upsert.length || remove.length ? { upsert, remove } : null;
  }

  all(): ServiceRow[] {
    return [...this.rows.values()];
  }

  /**
   * In the page's default order (namespace/name:port, then key, by code unit), so that the
   * browser's first sort of 10,000 rows finds them in order and costs one pass.
   */
  sorted(): ServiceRow[] {
    const label = (r: ServiceRow) => `${r.namespace}/${r.name}${r.portName ? `:${r.portName}` : ''}`;
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    return this.all()
      .map((r) => [label(r), r] as const)
      .sort((a, b) => cmp(a[0], b[0]) || cmp(a[1].key, b[1].key))
      .map((x) => x[1]);
  }
}
