// Last lines of defence for the process. A rejected promise nobody awaited would, by Node's
// default, end kproxy — and with it every Service of the node — over what is at worst one
// lost update: it is logged (with its stack) and counted, and kproxy keeps running. An
// uncaught exception leaves state that cannot be trusted: it is logged before the exit,
// never silent; the rules already in the kernel stay in place until kproxy is back.
import type { Logger } from './log.js';

export interface GuardCounters {
  unhandledRejection(): void;
}

let installed: ((reason: unknown) => void) | null = null;

export function installProcessGuards(log: Logger, counters?: GuardCounters): void {
  if (installed) process.off('unhandledRejection', installed);
  installed = (reason: unknown) => {
    counters?.unhandledRejection();
    log.error({ err: reason instanceof Error ? reason : new Error(String(reason)) }, 'unhandled promise rejection (a bug in kproxy or a library); logged and ignored');
  };
  process.on('unhandledRejection', installed);
  process.once('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting (the rules in the kernel stay in place)');
    process.exitCode = 70;
    setTimeout(() => process.exit(70), 100).unref();
  });
}
