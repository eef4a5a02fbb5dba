// Start-up is kproxy's memory peak: the first load parses every object, and the first full
// sync builds the whole ruleset, and nearly all of that is garbage a moment later. V8 keeps
// the pages of that peak until its next full collection, which a proxy that then only sees
// small changes may not run for hours: its resident set stays at the peak. One full
// collection right after the first sync lets V8 give those pages back (it unmaps them on
// its next tick). The collector is reached as Node's --expose-gc would give it, without
// asking the user to start Node with that flag.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { koffiLibc } from './libc.js';
import { releaseSpareSlabs } from './slab-arena.js';

/** Node's --expose-gc collector: a full collection, or with { type: 'minor' } a scavenge. */
type Collect = (options?: { type: 'minor' | 'major' }) => void;
let collect: Collect | null | undefined;

function collector(): Collect | null {
  if (collect !== undefined) return collect;
  const exposed = (globalThis as { gc?: Collect }).gc;
  if (exposed) return (collect = exposed);
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    collect = typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    collect = null; // a Node without it: the pages go back at V8's own pace
  }
  return collect;
}

/**
 * The second collection, once the process is quiet. V8 shrinks its young generation (32 MB at
 * the peak, resident since its pages were written) only in a full collection that finds the
 * allocation rate low over its last ~5 s, which it is not right after the first sync.
 * (Compacting the old generation here too was measured: −8 MB at 10,000 Services, but the
 * moved objects need new pages before the old ones go: +160 MB of peak. Not done.)
 */
const QUIET_MS = 6000;

let trim: ((pad: number) => number) | null | undefined;

/**
 * glibc keeps what Node frees (parsing buffers, Buffers collected above) in its arenas and
 * returns only the top of its main heap; malloc_trim(0) gives every free page back (−11 MB
 * measured at 10,000 Services). Not glibc, or no koffi: the memory stays with malloc.
 */
function trimMalloc(): void {
  try {
    trim ??= koffiLibc().lib.func('int malloc_trim(size_t)') as (pad: number) => number;
  } catch {
    trim = null;
  }
  trim?.(0);
}

let quiet: NodeJS.Timeout | null = null;

/**
 * The quiet collection and the trim, QUIET_MS after the last call (one pending at a time).
 * The spare ruleset slabs are let go there too, just before the collection that frees them:
 * full syncs that come closer together (a retry after a failure, a short syncPeriod) keep
 * writing into the same slabs, and a proxy between periodic syncs does not hold them.
 */
function settleWhenQuiet(gc: Collect | null): void {
  if (quiet) return void quiet.refresh();
  quiet = setTimeout(() => {
    quiet = null;
    releaseSpareSlabs();
    if (!gc) return; // a Node without it: the slabs go at V8's own pace
    gc();
    // V8 frees the collected Buffers' memory from a background thread: trim a moment later.
    setTimeout(() => {
      // V8 still counts that memory as external (nodejs_external_memory_bytes) until the
      // next collection settles its sweep: in a quiet proxy the next full sync, so the metric
      // showed the previous sync's text (+13 MB at 10,000 Services) that was long freed. A
      // scavenge (the young generation is nearly empty by now) settles it.
      gc({ type: 'minor' });
      trimMalloc();
    }, 1000).unref();
  }, QUIET_MS);
  quiet.unref();
}

/**
 * V8 estimates the allocation rate from its last ten or so collections, not from the clock:
 * a train of scavenges while the process is quiet (each well under a millisecond on a young
 * generation that is nearly empty) makes the estimate low, and the full collection after it
 * shrinks the young generation 0.6 s after the first sync instead of QUIET_MS later. Should a
 * later V8 count differently, the quiet collection still does it.
 */
const TRAIN = 12;
const TRAIN_GAP_MS = 50;

function shrinkYoungGeneration(gc: Collect, left = TRAIN): void {
  setTimeout(() => {
    if (left > 0) {
      gc({ type: 'minor' });
      shrinkYoungGeneration(gc, left - 1);
    } else gc();
  }, TRAIN_GAP_MS).unref();
}

/** One full garbage collection now and one when quiet, so that the start-up peak's pages can be returned. */
export function releaseStartupPeak(): void {
  releaseSpareSlabs();
  const gc = collector();
  if (!gc) return;
  gc();
  shrinkYoungGeneration(gc);
  settleWhenQuiet(gc);
}

/**
 * After a later full sync (periodic: every 30 s by default): its text and its garbage would
 * otherwise stay resident until V8's next full collection, ≈50 MB above the settled figure at
 * 10,000 Services. One full collection once quiet (CPU: one full GC per full sync), which
 * also takes the spare slabs.
 */
export function releaseFullSyncPeak(): void {
  settleWhenQuiet(collector());
}
