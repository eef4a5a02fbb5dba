// The Services and EndpointSlices the ipvs kernel suite serves (plain Kubernetes objects).
import { ADDR } from './lab.js';

export const NS = 'demo';
type Pod = 'pod1' | 'pod2';

export const node = () => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'node1' },
  spec: { podCIDRs: ['10.244.1.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: ADDR.node }] },
});

export function service(name: string, clusterIP: string, o: { nodePort?: number; affinity?: boolean; scheduler?: string } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: NS, name, ...(o.scheduler ? { annotations: { 'kproxy.io/scheduler': o.scheduler } } : {}) },
    spec: {
      type: o.nodePort ? 'NodePort' : 'ClusterIP',
      clusterIP,
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', ...(o.nodePort ? { nodePort: o.nodePort } : {}) }],
      ...(o.affinity ? { sessionAffinity: 'ClientIP' } : {}),
    },
  };
}

export function slice(svc: string, pods: Pod[]) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: NS, name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({ addresses: [ADDR[p]], nodeName: 'node1', conditions: { ready: true } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

/** A UDP Service on port 53 whose pods answer on 5353. */
export function udpService(name: string, clusterIP: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: NS, name },
    spec: { clusterIP, ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] },
  };
}

export function udpSlice(svc: string, pods: Pod[]) {
  return { ...slice(svc, pods), ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }] };
}

/** A LoadBalancer Service with an externalIP, its ingress IP in its status, and source ranges. */
export function loadBalancer(name: string, o: { clusterIP: string; nodePort: number; ingress: string; sourceRanges: string[]; externalIP?: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: NS, name },
    spec: {
      type: 'LoadBalancer',
      clusterIP: o.clusterIP,
      ...(o.externalIP ? { externalIPs: [o.externalIP] } : {}),
      loadBalancerSourceRanges: o.sourceRanges,
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: o.nodePort }],
    },
    status: { loadBalancer: { ingress: [{ ip: o.ingress }] } },
  };
}
