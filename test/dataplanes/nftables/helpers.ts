// Builds ProxyStates from plain Kubernetes objects for the nftables compiler tests.
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import type { ProxyState } from '../../../src/model/types.js';

export type Obj = Record<string, unknown>;

export function stateOf(objects: Obj[], nodeName = 'node1', machineAddresses = ['192.168.0.2']): { tracker: ChangeTracker; state: ProxyState } {
  const tracker = new ChangeTracker({ nodeName, machineAddresses });
  for (const o of objects) {
    const err = tracker.upsert(o as never);
    if (err) throw new Error(`test object rejected: ${JSON.stringify(err)}`);
  }
  return { tracker, state: tracker.snapshot() };
}

export function config(over: Partial<Config> = {}): Config {
  return { ...defaultConfig(), mode: 'nftables', clusterCIDRs: ['10.0.0.0/8'], serviceClusterIPRange: ['172.30.0.0/16'], ...over };
}

export function service(ns: string, name: string, spec: Obj, status?: Obj): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec, ...(status ? { status } : {}) };
}

export function slice(ns: string, svc: string, endpoints: Obj[], ports: Obj[], name = `${svc}-1`, addressType = 'IPv4'): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': svc } },
    addressType,
    endpoints,
    ports,
  };
}

export const ep = (ip: string, nodeName?: string, conditions?: Obj): Obj => ({ addresses: [ip], ...(nodeName ? { nodeName } : {}), ...(conditions ? { conditions } : {}) });

/** The rules of one chain in nft text ("add rule ip kproxy <chain> …" lines, rule part only). */
export function rulesOf(text: string, chain: string, family = 'ip'): string[] {
  const prefix = `add rule ${family} kproxy ${chain} `;
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));
}

/** Elements of one set/map: "key" or "key : value". */
export function elementsOf(text: string, set: string, family = 'ip'): string[] {
  const prefix = `add element ${family} kproxy ${set} { `;
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .flatMap((l) => l.slice(prefix.length, -2).split(', '));
}
