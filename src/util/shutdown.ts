// SIGTERM and SIGINT stop kproxy within a bounded time. The first signal starts an orderly
// stop (sources, sync runner, dataplane, servers); if that is not done within graceMs — a
// sync stuck behind an external command, a server that will not close — the commands
// kproxy started are killed and the process exits anyway. A second signal exits at once.
import { killRunningCommands } from './exec.js';
import type { Logger } from './log.js';

export const STOP_GRACE_MS = 5000;

/** Resolves on the first SIGTERM/SIGINT; from then on the process ends within graceMs. */
export function stopSignal(log: Logger, graceMs = STOP_GRACE_MS): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (sig: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      const force = (why: string) => {
        const killed = killRunningCommands();
        log.warn({ killedCommands: killed }, why);
        process.exit(1);
      };
      setTimeout(() => force(`not stopped within ${graceMs} ms of ${sig}; exiting now`), graceMs).unref();
      process.once('SIGINT', () => force('second signal; exiting now'));
      process.once('SIGTERM', () => force('second signal; exiting now'));
      resolve(sig);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
}

/** After an orderly stop: nothing kproxy started outlives it. */
export function finishStop(): void {
  killRunningCommands();
}
