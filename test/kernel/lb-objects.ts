// The objects of the LoadBalancer kernel test and benchmark: MetalLB's pool and
// advertisement, two Nodes, and three LoadBalancer Services without any status.
import { NS, slice, slice6 } from './fixtures.js';
import { ADDR } from './harness.js';
import { LAN } from './lan.js';

export const LB4 = '192.168.80.200';
export const LB6 = 'fd00:80::200';
export type NodeName = 'node1' | 'node2';
export const ROLE = { node1: 'node', node2: 'node2' } as const;
export const other = (n: NodeName): NodeName => (n === 'node1' ? 'node2' : 'node1');

export interface World {
  ready: Record<NodeName, boolean>;
  localPod: 'pod1' | 'pod3';
  /** kube-node-lease Leases (renewTime, leaseDurationSeconds) to write. */
  leases?: { node: NodeName; renewTime: string; seconds: number }[];
}

export function lbObjects(w: World): Record<string, unknown>[] {
  const node = (name: NodeName, addrs: string[]) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { addresses: addrs.map((address) => ({ type: 'InternalIP', address })), conditions: [{ type: 'Ready', status: w.ready[name] ? 'True' : 'False' }] },
  });
  const lb = (name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, annotations },
    spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
  });
  const out: Record<string, unknown>[] = [
    { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lan', namespace: 'metallb-system' }, spec: { addresses: ['192.168.80.200-192.168.80.210', 'fd00:80::200/124'] } },
    { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'lan', namespace: 'metallb-system' }, spec: { ipAddressPools: ['lan'], interfaces: ['eth-lan'] } },
    node('node1', [ADDR.node, LAN.node1]),
    node('node2', [ADDR.node2, LAN.node2]),
    lb('web', {}, { 'metallb.io/loadBalancerIPs': LB4 }),
    slice('web', ['pod1', 'pod3']),
    lb('local', { externalTrafficPolicy: 'Local' }),
    slice('local', [w.localPod]),
    lb('web6', { ipFamilies: ['IPv6'], externalTrafficPolicy: 'Local' }, { 'metallb.universe.tf/loadBalancerIPs': LB6 }),
    slice6('web6', ['pod1']),
  ];
  for (const lease of w.leases ?? []) {
    out.push({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: lease.node, namespace: 'kube-node-lease' },
      spec: { holderIdentity: lease.node, leaseDurationSeconds: lease.seconds, renewTime: lease.renewTime },
    });
  }
  return out;
}

/** `kproxy run` arguments for one of the two nodes (nftables mode, shared manifests folder). */
export function kproxyArgs(dir: string, n: NodeName): string[] {
  return [
    'run',
    '--manifests',
    dir,
    '--v',
    '1',
    '--proxy-mode',
    'nftables',
    '--hostname-override',
    n,
    '--cluster-cidr',
    `${ADDR.clusterCIDR},${ADDR.clusterCIDR6}`,
    '--service-cluster-ip-range',
    `${ADDR.serviceCIDR},${ADDR.serviceCIDR6}`,
    '--metrics-bind-address',
    '127.0.0.1:10249',
    '--healthz-bind-address',
    '',
    '--dns-bind-address',
    'off',
  ];
}

/** The announcer both nodes logged last for an address, or null while they disagree. */
export function agreedAnnouncer(logs: Record<NodeName, string>, ip: string): NodeName | null {
  const last = (log: string) => {
    let node: string | null = null;
    for (const line of log.split('\n')) {
      if (!line.includes('LoadBalancer address') || !line.includes(`"ip":"${ip}"`)) continue;
      node = (JSON.parse(line) as { node: string | null }).node;
    }
    return node;
  };
  const a = last(logs.node1);
  return a !== null && a === last(logs.node2) ? (a as NodeName) : null;
}

/**
 * Whether a node's layer-2 responder holds an address now: the node's log names it the
 * announcer, and a gratuitous announcement of the address followed. The responder sends that
 * announcement as soon as it holds the address, which can be a while after the node chose
 * itself (the responder's worker starts on first use): an ARP request in between goes
 * unanswered, and the client learns the MAC from the announcement instead.
 */
export function responderHolds(log: string, node: NodeName, ip: string): boolean {
  let chosen = false;
  let announced = false;
  for (const line of log.split('\n')) {
    if (!line.includes(`"ip":"${ip}"`)) continue;
    if (line.includes('LoadBalancer address')) {
      chosen = (JSON.parse(line) as { node: string | null }).node === node;
      announced = false;
    } else if (line.includes('gratuitous announcement sent')) announced = chosen;
  }
  return announced;
}
