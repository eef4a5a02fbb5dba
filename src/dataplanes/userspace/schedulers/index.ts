// Scheduler names → implementations. `--ipvs-scheduler` picks the default; the Service
// annotation kproxy.io/scheduler overrides it per Service.
import { DestinationHashing, SourceHashing } from './hashtable.js';
import { LeastConnection, NeverQueue, ShortestExpectedDelay } from './lc.js';
import { Maglev } from './maglev.js';
import { PowerOfTwoChoices } from './p2c.js';
import { RandomScheduler } from './random.js';
import { RoundRobin } from './rr.js';
import { SCHEDULER_NAMES, type Scheduler, type SchedulerName } from './types.js';

export * from './types.js';

export const SCHEDULER_ANNOTATION = 'kproxy.io/scheduler';

const make: Record<SchedulerName, () => Scheduler> = {
  rr: () => new RoundRobin(),
  random: () => new RandomScheduler(),
  lc: () => new LeastConnection(),
  sed: () => new ShortestExpectedDelay(),
  nq: () => new NeverQueue(),
  dh: () => new DestinationHashing(),
  sh: () => new SourceHashing(),
  maglev: () => new Maglev(),
  p2c: () => new PowerOfTwoChoices(),
};

export function isSchedulerName(s: string): s is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(s);
}

export function createScheduler(name: SchedulerName): Scheduler {
  return make[name]();
}
