// The synthetic cluster every mode is measured against: N ClusterIP Services × E endpoints.
// The first and the last Service point at the two real Pods of the bench's topology (the
// latency targets); every other endpoint is an address that is never contacted, spread over
// 100 nodes, as a cluster of that size would have them.
import { BENCH_ADDR, POD_PORT } from './topology.js';

export const NODE = 'node-0';
export const SERVICE_PORT = 80;

/** ClusterIP of Service i: 10.100.0.0/16 upwards, inside 10.96.0.0/12 (up to 1,048,576 − 393,216). */
export function serviceIP(i: number): string {
  const k = (100 << 16) + i; // 10.100.0.0 + i
  return `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
}

/** Fake endpoint k as 10.(200 + k>>16).(k>>8).(k): 3.6 million distinct addresses. */
const fakeIP = (k: number) => `10.${200 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;

export function serviceObject(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'bench', name: `svc-${i}` },
    // As the API server returns it, defaults filled in (kube-proxy reads clusterIPs and ipFamilies).
    spec: {
      type: 'ClusterIP',
      clusterIP: serviceIP(i),
      clusterIPs: [serviceIP(i)],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: POD_PORT, protocol: 'TCP' }],
    },
  };
}

/** The bench's node as the API server has it: its address and Pod CIDR. */
export function nodeObject() {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] },
    status: {
      addresses: [
        { type: 'InternalIP', address: BENCH_ADDR.node },
        { type: 'Hostname', address: NODE },
      ],
    },
  };
}

/** Whether Service i is a latency target (its endpoints are the real Pods). */
export const isTarget = (i: number, n: number) => i === 0 || i === n - 1;

/**
 * The EndpointSlice of Service i. `generation` shifts the fake addresses, so a new
 * generation of one slice is the "one EndpointSlice change" of a partial sync.
 */
export function sliceObject(i: number, n: number, endpoints: number, generation = 0) {
  const real = isTarget(i, n);
  const addresses = real ? [BENCH_ADDR.pod1, BENCH_ADDR.pod2] : Array.from({ length: endpoints }, (_, j) => fakeIP(i * endpoints + j + generation));
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'bench', name: `svc-${i}-1`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    endpoints: addresses.map((ip, j) => ({ addresses: [ip], nodeName: real ? NODE : `node-${(i + j) % 100}`, conditions: { ready: true } })),
    ports: [{ name: 'http', port: POD_PORT, protocol: 'TCP' }],
  };
}
