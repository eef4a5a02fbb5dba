// Structured logging (pino). Level from --v: 0 info, 1-3 debug, 4+ trace. Two formats:
// json (one pino object per line, for log collectors) and text (one readable line per event,
// the default on a terminal).
import { pino, type Logger } from 'pino';
import { textDestination } from './log-text.js';

export type { Logger };

export type LogFormat = '' | 'text' | 'json';

export function createLogger(verbosity = 0, destination: NodeJS.WritableStream = process.stderr, format: LogFormat = 'json'): Logger {
  const level = verbosity >= 4 ? 'trace' : verbosity >= 1 ? 'debug' : 'info';
  const text = format === 'text' || (format === '' && (destination as { isTTY?: boolean }).isTTY === true);
  const dest = text ? textDestination(destination) : destination;
  return pino({ level, base: { component: 'kproxy' } }, dest as unknown as pino.DestinationStream);
}

/** A logger that discards everything (tests, one-shot commands). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
