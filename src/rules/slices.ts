// Runs a long render a little at a time, so that the event loop keeps turning while it runs:
// kproxy's sync loop, health checks, probes, metrics and userspace connections share it with
// the /rules page. A render is a sequence of chunks (see AppliedRuleset.chunks); after each
// chunk, once `budgetMs` of this turn is spent, the loop is handed back (setImmediate) before
// the next chunk is asked for. The time is read per chunk, so the budget holds as long as
// the renderer's chunks are small pieces of work; it does not need to know the budget.
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Time a render may hold the event loop in one turn. */
export const SLICE_BUDGET_MS = 8;

export interface SliceStats {
  /** How many times the loop was handed back. */
  pauses: number;
}

/** Calls `each` on every non-empty chunk, pausing whenever `budgetMs` has been used up. */
export async function inSlices<T extends string | Uint8Array>(chunks: Iterable<T>, each: (chunk: T) => void, budgetMs = SLICE_BUDGET_MS, stats?: SliceStats): Promise<void> {
  let start = performance.now();
  for (const chunk of chunks) {
    if (chunk.length > 0) each(chunk);
    if (performance.now() - start >= budgetMs) {
      await nextTurn();
      if (stats) stats.pauses++;
      start = performance.now();
    }
  }
}
