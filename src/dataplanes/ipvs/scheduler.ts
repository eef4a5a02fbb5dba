// IPVS schedulers: --ipvs-scheduler picks the default, the Service annotation
// kproxy.io/scheduler overrides it per Service (the same annotation the userspace mode reads).
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh'] as const;
export const SCHEDULER_ANNOTATION = 'kproxy.io/scheduler';

export function isIpvsScheduler(s: string): boolean {
  return (IPVS_SCHEDULERS as readonly string[]).includes(s);
}
