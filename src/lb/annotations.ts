// The Service annotations MetalLB reads, under the current prefix and the deprecated one
// (metallb.universe.tf), which MetalLB still honours; the current one wins when both are set.
export const ANNOTATION = {
  addressPool: 'address-pool',
  loadBalancerIPs: 'loadBalancerIPs',
  allowSharedIP: 'allow-shared-ip',
  allocatedFromPool: 'ip-allocated-from-pool',
} as const;

const PREFIX = 'metallb.io/';
const DEPRECATED_PREFIX = 'metallb.universe.tf/';

/** The annotation's value and the exact key it came from (for error messages); null if unset. */
export function annotation(annotations: Readonly<Record<string, string>>, name: string): { key: string; value: string } | null {
  for (const key of [PREFIX + name, DEPRECATED_PREFIX + name]) {
    if (Object.prototype.hasOwnProperty.call(annotations, key)) return { key, value: annotations[key] };
  }
  return null;
}

export const ALLOCATED_FROM_POOL_KEY = PREFIX + ANNOTATION.allocatedFromPool;

/**
 * The spec.loadBalancerClass kproxy answers to besides "unset". Services naming another
 * class belong to another load-balancer implementation and are left alone.
 */
export const KPROXY_LOAD_BALANCER_CLASS = 'kproxy.io/metallb';
