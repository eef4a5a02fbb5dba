// Which path copies the bytes of proxied TCP connections: `splice` (pump.ts, the bytes stay
// in the kernel) where koffi and the Linux calls are there, else `js` (tcp.ts's copy loop).
// $KPROXY_USERSPACE_BULK=auto|splice|js chooses; auto is the default. Forcing `js` is how the
// tests run every userspace test on the fallback path too.
import { ConfigError } from '../../../util/errors.js';
import type { Logger } from '../../../util/log.js';
import { SpliceEngine } from './engine.js';

export type BulkPath = 'splice' | 'js';
export const BULK_ENV = 'KPROXY_USERSPACE_BULK';

export function requestedBulkPath(value = process.env[BULK_ENV] ?? 'auto'): BulkPath | 'auto' {
  if (value === 'auto' || value === '' || value === 'splice' || value === 'js') return value === '' ? 'auto' : value;
  throw new ConfigError(BULK_ENV, `expected auto, splice or js, got "${value}"`);
}

/** The splice engine when the path asked for allows it and it starts; null = copy in JavaScript. */
export function startBulkPath(requested: BulkPath | 'auto', log: Logger): SpliceEngine | null {
  if (requested === 'js') return null;
  const engine = SpliceEngine.start(log);
  if (typeof engine !== 'string') return engine;
  if (requested === 'splice') throw new ConfigError(BULK_ENV, `the splice path is not available here: ${engine}`);
  log.info(`userspace proxy: copying in JavaScript (the splice path is not available: ${engine})`);
  return null;
}
