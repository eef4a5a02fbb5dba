// The Services the nftables kernel tests program, over the harness topology.
import { ADDR, POD_TCP_PORT, POD_UDP_PORT } from './harness.js';

export const NS = 'demo';
export const VIP = {
  web: '10.96.0.10',
  lb: '10.96.0.11',
  sticky: '10.96.0.12',
  local: '10.96.0.13',
  remote: '10.96.0.14',
  itl: '10.96.0.15',
  empty: '10.96.0.16',
  hairpin: '10.96.0.17',
  dns: '10.96.0.53',
  stickyDns: '10.96.0.54',
};
export const VIP6 = { web: 'fd00:10:96::10', empty: 'fd00:10:96::16' };
export const NODEPORT6 = 30090;
export const LB_IP = '192.168.100.10';
export const EXTERNAL_IP = '192.168.100.20';
/** The eTP Local Service whose only endpoint is on node2: its externalIP and LB IP. */
export const REMOTE_EXTERNAL_IP = '192.168.100.21';
export const REMOTE_LB_IP = '192.168.100.11';
export const NODEPORT = { web: 30080, local: 30081, lb: 30082, remote: 30083 };

type Pod = 'pod1' | 'pod2' | 'pod3';
const nodeOf = (p: Pod) => (p === 'pod3' ? 'node2' : 'node1');

function service(name: string, spec: Record<string, unknown>, status?: Record<string, unknown>) {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: NS, name }, spec, ...(status ? { status } : {}) };
}

export function slice6(svc: string, pods: ('pod1' | 'pod2')[]) {
  const ip = { pod1: ADDR.pod16, pod2: ADDR.pod26 };
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: NS, name: `${svc}-v6`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv6',
    endpoints: pods.map((p) => ({ addresses: [ip[p]], nodeName: 'node1', conditions: { ready: true } })),
    ports: [{ name: 'http', port: POD_TCP_PORT, protocol: 'TCP' }],
  };
}

export function slice(svc: string, pods: Pod[], proto: 'TCP' | 'UDP' = 'TCP') {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: NS, name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({ addresses: [ADDR[p]], nodeName: nodeOf(p), conditions: { ready: true } })),
    ports: [{ name: proto === 'TCP' ? 'http' : 'dns', port: proto === 'TCP' ? POD_TCP_PORT : POD_UDP_PORT, protocol: proto }],
  };
}

const http = (nodePort?: number) => [{ name: 'http', port: 80, targetPort: POD_TCP_PORT, protocol: 'TCP', ...(nodePort ? { nodePort } : {}) }];

export function objects(): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node1' },
      spec: { podCIDRs: ['10.244.1.0/24'] },
      status: {
        addresses: [
          { type: 'InternalIP', address: ADDR.node },
          { type: 'InternalIP', address: ADDR.node6 },
        ],
      },
    },
    service('web', { type: 'NodePort', clusterIP: VIP.web, externalIPs: [EXTERNAL_IP], ports: http(NODEPORT.web) }),
    slice('web', ['pod1', 'pod2', 'pod3']),
    service('lb', { type: 'LoadBalancer', clusterIP: VIP.lb, loadBalancerSourceRanges: ['192.168.50.0/24'], ports: http(NODEPORT.lb) }, { loadBalancer: { ingress: [{ ip: LB_IP }] } }),
    slice('lb', ['pod1', 'pod2']),
    service('sticky', { clusterIP: VIP.sticky, sessionAffinity: 'ClientIP', ports: http() }),
    slice('sticky', ['pod1', 'pod2', 'pod3']),
    service('local', { type: 'NodePort', clusterIP: VIP.local, externalTrafficPolicy: 'Local', ports: http(NODEPORT.local) }),
    slice('local', ['pod1', 'pod3']),
    service(
      'remote',
      { type: 'LoadBalancer', clusterIP: VIP.remote, externalIPs: [REMOTE_EXTERNAL_IP], externalTrafficPolicy: 'Local', ports: http(NODEPORT.remote) },
      { loadBalancer: { ingress: [{ ip: REMOTE_LB_IP }] } },
    ),
    slice('remote', ['pod3']),
    service('itl', { clusterIP: VIP.itl, internalTrafficPolicy: 'Local', ports: http() }),
    slice('itl', ['pod1', 'pod3']),
    service('empty', { clusterIP: VIP.empty, ports: http() }),
    service('hairpin', { clusterIP: VIP.hairpin, ports: http() }),
    slice('hairpin', ['pod1']),
    service('dns', { clusterIP: VIP.dns, ports: [{ name: 'dns', port: 53, targetPort: POD_UDP_PORT, protocol: 'UDP' }] }),
    slice('dns', ['pod1', 'pod2'], 'UDP'),
    // DNS's shape with ClientIP affinity: TCP and UDP on one port number.
    service('sticky-dns', {
      clusterIP: VIP.stickyDns,
      sessionAffinity: 'ClientIP',
      ports: [
        { name: 'dns-tcp', port: 53, targetPort: POD_TCP_PORT, protocol: 'TCP' },
        { name: 'dns', port: 53, targetPort: POD_UDP_PORT, protocol: 'UDP' },
      ],
    }),
    {
      ...slice('sticky-dns', ['pod1', 'pod2']),
      ports: [
        { name: 'dns-tcp', port: POD_TCP_PORT, protocol: 'TCP' },
        { name: 'dns', port: POD_UDP_PORT, protocol: 'UDP' },
      ],
    },
    service('web6', { type: 'NodePort', ipFamilies: ['IPv6'], clusterIP: VIP6.web, clusterIPs: [VIP6.web], ports: http(NODEPORT6) }),
    slice6('web6', ['pod1', 'pod2']),
    service('empty6', { ipFamilies: ['IPv6'], clusterIP: VIP6.empty, clusterIPs: [VIP6.empty], ports: http() }),
  ];
}

export const KPROXY_FLAGS = [
  '--proxy-mode',
  'nftables',
  '--hostname-override',
  'node1',
  '--cluster-cidr',
  `${ADDR.clusterCIDR},${ADDR.clusterCIDR6}`,
  '--service-cluster-ip-range',
  `${ADDR.serviceCIDR},${ADDR.serviceCIDR6}`,
  '--metrics-bind-address',
  '127.0.0.1:10249',
  '--healthz-bind-address',
  '127.0.0.1:10256',
];
