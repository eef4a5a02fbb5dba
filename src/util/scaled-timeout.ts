// A deadline that grows with the work handed to a command: a floor (start-up, lock waits, a
// loaded machine) plus an allowance per unit of input (a line, a byte). A fixed deadline either
// kills a large but healthy restore, or lets a small hung one run for minutes; this one keeps a
// hung command's life bounded by the size of what it was given.

/** floorMs + units × perUnitMs, rounded up to a whole millisecond; bad counts count as 0. */
export function scaledTimeoutMs(floorMs: number, perUnitMs: number, units: number): number {
  const n = Number.isFinite(units) && units > 0 ? units : 0;
  return Math.ceil(floorMs + n * perUnitMs);
}
