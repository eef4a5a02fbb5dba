// Start-up is kproxy's memory peak: the first load parses every object, and the first full
// sync builds the whole ruleset, and nearly all of that is garbage a moment later. V8 keeps
// the pages of that peak until its next full collection, which a proxy that then only sees
// small changes may not run for hours: its resident set stays at the peak. One full
// collection right after the first sync lets V8 give those pages back (it unmaps them on
// its next tick). The collector is reached as Node's --expose-gc would give it, without
// asking the user to start Node with that flag.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = () => void;
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

/** One full garbage collection, so that the start-up peak's pages can be returned. */
export function releaseStartupPeak(): void {
  collector()?.();
}
