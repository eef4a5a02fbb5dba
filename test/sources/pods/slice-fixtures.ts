// The Service and Pods the EndpointSlice builder tests start from: a Service `shop/web`
// selecting `app: web`, and Pods on two nodes in two zones, validated as the controller
// receives them.
import assert from 'node:assert/strict';
import { validateService } from '../../../src/api/validate.js';
import type { Service } from '../../../src/api/types.js';
import { validatePod, type Pod } from '../../../src/sources/pods/pod.js';
import type { EndpointSlice } from '../../../src/api/types.js';
import type { ObjectSink } from '../../../src/sources/sink.js';

export function svc(spec: Record<string, unknown>, meta: Record<string, unknown> = {}): Service {
  const v = validateService({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', uid: 'u-web', labels: { team: 'a' }, ...meta },
    spec: { clusterIP: '10.96.0.10', selector: { app: 'web' }, ...spec },
  });
  assert.ok(v.ok, JSON.stringify(!v.ok && v.error));
  return v.value;
}

export interface PodShape {
  ip?: string | string[];
  node?: string;
  ports?: Record<string, unknown>[];
  deleting?: boolean;
  phase?: string;
  hostname?: string;
  subdomain?: string;
  labels?: Record<string, string>;
}

export function pod(name: string, o: PodShape = {}): Pod {
  const ips = o.ip === undefined ? ['10.0.0.1'] : Array.isArray(o.ip) ? o.ip : [o.ip];
  const v = validatePod({
    kind: 'Pod',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: o.node ?? 'node-a', hostname: o.hostname, subdomain: o.subdomain, containers: [{ name: 'c', ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIPs: ips.map((ip) => ({ ip })), phase: o.phase ?? 'Running' },
  });
  assert.ok(v.ok, JSON.stringify(!v.ok && v.error));
  return v.pod;
}

/** The zone of each node the Pods run on. */
export const zones: Record<string, string> = { 'node-a': 'zone-a', 'node-b': 'zone-b' };

/** A sink that keeps the model slices it was given; `addresses(service)` lists their endpoints, sorted. */
export function sliceSink(): { sink: ObjectSink; addresses: (service: string) => string[] } {
  const slices = new Map<string, EndpointSlice>();
  const sink: ObjectSink = {
    upsert: () => null,
    upsertEndpointSlice: (s) => void slices.set(`${s.namespace}/${s.name}`, s),
    delete: (_k, ns, name) => void slices.delete(`${ns}/${name}`),
    reportError: () => {},
    clearError: () => {},
  };
  const addresses = (service: string) =>
    [...slices.values()]
      .filter((s) => s.serviceName === service)
      .flatMap((s) => s.endpoints.map((e) => e.addresses[0]))
      .sort();
  return { sink, addresses };
}
