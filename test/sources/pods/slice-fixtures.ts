// The Service and Pods the EndpointSlice builder tests start from: a Service `shop/web`
// selecting `app: web`, and Pods on two nodes in two zones, validated as the controller
// receives them.
import assert from 'node:assert/strict';
import { validateService } from '../../../src/api/validate.js';
import type { Service } from '../../../src/api/types.js';
import { validatePod, type Pod } from '../../../src/sources/pods/pod.js';

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
