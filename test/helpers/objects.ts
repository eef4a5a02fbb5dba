// Small builders for Kubernetes objects in tests.
import type { KubeObject } from '../../src/api/types.js';

export function service(namespace: string, name: string, spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec, ...extra };
}

export interface EP {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  zoneHints?: string[];
  nodeHints?: string[];
  hostname?: string;
}

export function slice(namespace: string, serviceName: string, name: string, eps: EP[], ports: { name?: string; port: number; protocol?: string }[], addressType = 'IPv4'): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType,
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      ...(e.node ? { nodeName: e.node } : {}),
      ...(e.hostname ? { hostname: e.hostname } : {}),
      conditions: {
        ...(e.ready !== undefined ? { ready: e.ready } : {}),
        ...(e.serving !== undefined ? { serving: e.serving } : {}),
        ...(e.terminating !== undefined ? { terminating: e.terminating } : {}),
      },
      ...(e.zoneHints || e.nodeHints
        ? { hints: { ...(e.zoneHints ? { forZones: e.zoneHints.map((z) => ({ name: z })) } : {}), ...(e.nodeHints ? { forNodes: e.nodeHints.map((n) => ({ name: n })) } : {}) } }
        : {}),
    })),
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
  };
}

export function node(name: string, labels: Record<string, string> = {}, addresses: string[] = []): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels },
    status: { addresses: addresses.map((a) => ({ type: 'InternalIP', address: a })) },
  };
}
