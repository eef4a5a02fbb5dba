// Synthetic clusters for the nftables benchmark: N ClusterIP Services × E endpoints. The first
// and the last Service point at the two real pods of the harness topology (for first-packet
// latency); every other endpoint is a fake address that is never contacted, spread over 100
// nodes (so 1 % of them are on this node, NODE), as a cluster of that size would have them.
export const REAL_PODS = ['10.244.1.11', '10.244.1.12'];
export const POD_PORT = 8080;

export const NODE = 'node-0';
export const serviceIP = (i: number) => `10.100.${(i >> 8) & 255}.${i & 255}`;

/** Fake endpoint k as 10.(200 + k>>16).(k>>8).(k): up to 3.6M distinct addresses. */
const fakeIP = (k: number) => `10.${200 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;

export function serviceObject(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'bench', name: `svc-${i}` },
    spec: { clusterIP: serviceIP(i), ports: [{ name: 'http', port: 80, targetPort: POD_PORT, protocol: 'TCP' }] },
  };
}

export function sliceObject(i: number, n: number, endpoints: number, generation = 0) {
  const real = i === 0 || i === n - 1;
  const ks = real ? [] : Array.from({ length: endpoints }, (_, j) => i * endpoints + j + generation);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'bench', name: `svc-${i}-1`, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    endpoints: real
      ? REAL_PODS.map((ip) => ({ addresses: [ip], nodeName: NODE, conditions: { ready: true } }))
      : ks.map((k) => ({ addresses: [fakeIP(k)], nodeName: `node-${k % 100}`, conditions: { ready: true } })),
    ports: [{ name: 'http', port: POD_PORT, protocol: 'TCP' }],
  };
}
