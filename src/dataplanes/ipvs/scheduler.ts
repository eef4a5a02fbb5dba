// IPVS schedulers: --ipvs-scheduler picks the default, the Service annotation
// kproxy.io/scheduler overrides it per Service (the same annotation the userspace mode reads).
import { ConfigError } from '../../util/errors.js';

export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh'] as const;
export const SCHEDULER_ANNOTATION = 'kproxy.io/scheduler';

export function isIpvsScheduler(s: string): boolean {
  return (IPVS_SCHEDULERS as readonly string[]).includes(s);
}

/** --ipvs-scheduler must name an IPVS scheduler in ipvs mode ("" = rr). */
export function checkSchedulerFlag(scheduler: string): void {
  if (scheduler && !isIpvsScheduler(scheduler)) throw new ConfigError('--ipvs-scheduler', `unknown IPVS scheduler "${scheduler}" (expected ${IPVS_SCHEDULERS.join(', ')})`);
}
