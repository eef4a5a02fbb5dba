// Builds ProxyStates from plain Kubernetes objects for the IPVS compiler tests.
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import type { ProxyState } from '../../../src/model/types.js';

export type Obj = Record<string, unknown>;

export function stateOf(objects: Obj[], nodeName = 'node1', machineAddresses = ['192.168.0.2']): ProxyState {
  const tracker = new ChangeTracker({ nodeName, machineAddresses });
  for (const o of objects) {
    const err = tracker.upsert(o as never);
    if (err) throw new Error(`test object rejected: ${JSON.stringify(err)}`);
  }
  return tracker.snapshot();
}

export function config(over: Partial<Config> = {}): Config {
  return { ...defaultConfig(), mode: 'ipvs', clusterCIDRs: ['10.0.0.0/8'], serviceClusterIPRange: ['172.30.0.0/16'], ...over };
}

export function service(ns: string, name: string, spec: Obj, status?: Obj, annotations?: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name, ...(annotations ? { annotations } : {}) }, spec, ...(status ? { status } : {}) };
}

export function slice(ns: string, svc: string, endpoints: Obj[], ports: Obj[]): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: `${svc}-1`, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

export const ep = (ip: string, nodeName?: string, conditions?: Obj): Obj => ({ addresses: [ip], ...(nodeName ? { nodeName } : {}), ...(conditions ? { conditions } : {}) });

export const node = (name: string, ip: string): Obj => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } });
