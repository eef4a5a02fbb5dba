// Structured logging (pino). Level from --v: 0 info, 1-3 debug, 4+ trace.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(verbosity = 0, destination: NodeJS.WritableStream = process.stderr): Logger {
  const level = verbosity >= 4 ? 'trace' : verbosity >= 1 ? 'debug' : 'info';
  return pino({ level, base: { component: 'kproxy' } }, destination as unknown as pino.DestinationStream);
}

/** A logger that discards everything (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
