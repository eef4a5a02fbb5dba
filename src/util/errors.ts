/** An object that failed validation: which one, which field, and why. */
export interface ObjectError {
  kind: string;
  namespace: string;
  name: string;
  field: string;
  reason: string;
}

export function formatObjectError(e: ObjectError): string {
  const id = e.namespace ? `${e.namespace}/${e.name}` : e.name;
  // A file that cannot be read at all has no field (no line) to name.
  return e.field ? `${e.kind} ${id}: ${e.field}: ${e.reason}` : `${e.kind} ${id}: ${e.reason}`;
}

/** A configuration problem the user must fix before anything starts. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/**
 * A server of `kproxy run` that cannot bind, with --bind-address-hard-fail: the flag of that
 * address and why, in one line (Node's "listen EADDRINUSE: address already in use 127.0.0.1:10249"
 * without the verb and the address, which the line already names).
 */
export function bindFailure(flag: string, address: string, e: unknown): ConfigError {
  const why = (e as Error).message.replace(/^(?:listen|bind) /, '').replace(/ \S*:\d+$/, '');
  return new ConfigError(flag, `cannot bind ${address} (${why}); --bind-address-hard-fail stops kproxy when a server cannot bind`);
}

/**
 * Why a file system call failed, without the call and path Node appends ("EACCES: permission
 * denied, open '/x/y'" -> "EACCES: permission denied"): for a line that names the path itself.
 */
export function fsReason(e: unknown): string {
  return (e as Error).message.replace(/, \w+(?: '.*')?$/, '');
}
