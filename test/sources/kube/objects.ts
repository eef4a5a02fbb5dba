// Builders for the objects the kube source tests serve: as an API server would hold them.
import type { Obj } from './apiserver.js';

export function service(namespace: string, name: string, clusterIP: string, opts: { port?: number; labels?: Record<string, string>; headless?: boolean; type?: string } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: opts.labels ?? {} },
    spec: {
      type: opts.type ?? 'ClusterIP',
      clusterIP: opts.headless ? 'None' : clusterIP,
      clusterIPs: opts.headless ? ['None'] : [clusterIP],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      selector: { app: name },
      ports: [{ name: 'http', protocol: 'TCP', port: opts.port ?? 80, targetPort: 8080 }],
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
    },
  };
}

export function slice(namespace: string, serviceName: string, ips: string[], opts: { name?: string; labels?: Record<string, string>; port?: number; node?: string; ready?: boolean } = {}): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: opts.name ?? `${serviceName}-abcde`,
      namespace,
      labels: { 'kubernetes.io/service-name': serviceName, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', ...(opts.labels ?? {}) },
    },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({
      addresses: [ip],
      conditions: { ready: opts.ready ?? true, serving: opts.ready ?? true, terminating: false },
      nodeName: opts.node ?? 'node-b',
      zone: 'zone-a',
    })),
    ports: [{ name: 'http', protocol: 'TCP', port: opts.port ?? 8080 }],
  };
}

export function node(name: string, ip: string, labels: Record<string, string> = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': 'zone-a', ...labels } },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24'] },
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name },
      ],
    },
  };
}
