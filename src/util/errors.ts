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
