// Long computations written once as generators of steps: each `yield` marks a point where a
// caller that must not hold the event loop for long (the /rules page, src/rules/slices.ts)
// may pause; a caller in a hurry (a sync) runs them straight through with `drain`.

/** Runs a generator of steps to its end and returns its result. */
export function drain<T>(steps: Generator<unknown, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** The same steps as empty chunks (a pause point each, see AppliedRuleset.chunks); returns the result. */
export function* asPauses<T>(steps: Generator<unknown, T>): Generator<'', T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    yield '';
  }
}
