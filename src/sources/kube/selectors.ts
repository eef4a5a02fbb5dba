// What kube-proxy watches, and how it narrows each watch on the server side.
import type { Config } from '../../config/types.js';
import type { ResourceSpec } from './informer.js';

export const LABEL_SERVICE_PROXY_NAME = 'service.kubernetes.io/service-proxy-name';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

/**
 * Services and EndpointSlices that belong to this proxy: those without a
 * service-proxy-name label, or with ours when serviceProxyName is set.
 * kube-proxy also drops EndpointSlices of headless Services (the EndpointSlice controller
 * labels them service.kubernetes.io/headless); kproxy does the same unless its DNS server
 * is on, because DNS answers headless names with exactly those endpoints. The model skips
 * headless Services for the dataplanes either way.
 */
export function resources(cfg: Config, nodeName: string): ResourceSpec[] {
  const proxyName = cfg.serviceProxyName ? `${LABEL_SERVICE_PROXY_NAME}=${cfg.serviceProxyName}` : `!${LABEL_SERVICE_PROXY_NAME}`;
  const sliceSelector = [proxyName, ...(cfg.dnsBindAddress ? [] : [`!${LABEL_HEADLESS}`]), LABEL_SERVICE_NAME];
  return [
    { path: '/api/v1/services', apiVersion: 'v1', kind: 'Service', labelSelector: proxyName },
    {
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      labelSelector: sliceSelector.join(','),
    },
    { path: '/api/v1/nodes', apiVersion: 'v1', kind: 'Node', fieldSelector: `metadata.name=${nodeName}` },
  ];
}
