// bench:model — the ProxyState for 10,000 Services × 10 endpoints (100,000 endpoints in
// 10,000 EndpointSlices over 100 nodes), built from scratch, then after one slice change.
// Reference, measured in the same run: structuredClone of the same objects (the least work
// that touches every field once), so the ratio says how much the model costs beyond that.
// One slice change is also timed against a model a tenth the size: a change costs what
// changed, so the ratio stays near 1 (it was ~10 when every snapshot copied its maps).
import type { KubeObject } from '../src/api/types.js';
import { ChangeTracker } from '../src/model/tracker.js';

const SERVICES = Number(process.env.SERVICES ?? 10_000);
const ENDPOINTS = 10;
const NODES = 100;
const RUNS = 5;

function objects(): KubeObject[] {
  const out: KubeObject[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const ns = `ns${i % 50}`;
    const name = `svc${i}`;
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: ns, name },
      spec: { clusterIP: `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    out.push(sliceFor(ns, name, i, 0));
  }
  return out;
}

function sliceFor(ns: string, name: string, i: number, version: number): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: ns, name: `${name}-abcde`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: Array.from({ length: ENDPOINTS }, (_, e) => {
      const n = i * ENDPOINTS + e + version;
      return { addresses: [`10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], nodeName: `node${n % NODES}`, conditions: { ready: true } };
    }),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * CPU time (user + system) of this process in ms, around fn: on a shared, loaded machine the
 * wall clock measures the neighbours as much as the code; CPU time measures the code.
 */
function cpuMs(fn: () => void, wall?: number[]): number {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  fn();
  wall?.push(performance.now() - w0);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const objs = objects();

// Memory first, in a fresh process: the heap a complete model holds after a full GC, and the
// process RSS with the model and its input objects alive (the timed runs below would only
// add their garbage to the high-water mark).
global.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
let kept: ChangeTracker | null = new ChangeTracker({ nodeName: 'node7' });
for (const o of objs) kept.upsert(o);
global.gc?.();
const heldMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
kept.snapshot();
global.gc?.();
const modelMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
const inputMB = heapBefore / 2 ** 20;
const rssMB = process.memoryUsage().rss / 2 ** 20;
if (kept.current().servicePorts.size !== SERVICES) throw new Error('the model lost services');
kept = null;
const scratch: number[] = [];
const scratchWall: number[] = [];
const incremental: number[] = [];
const reference: number[] = [];
let _tracker: ChangeTracker | null = null;
for (let run = 0; run < RUNS; run++) {
  reference.push(cpuMs(() => structuredClone(objs)));

  _tracker = null;
  global.gc?.();
  const t = new ChangeTracker({ nodeName: 'node7' });
  _tracker = t; // kept alive for the memory figure
  let state = t.current();
  scratch.push(
    cpuMs(() => {
      for (const o of objs) t.upsert(o);
      state = t.snapshot();
    }, scratchWall),
  );
  if (state.servicePorts.size !== SERVICES || state.errors.length > 0) throw new Error('the model lost services');

  // 101 consecutive single-slice changes, each followed by its own snapshot: the median is
  // one steady-state incremental sync, with garbage collection amortised as in a real run.
  for (let k = 0; k < 101; k++) {
    const i = (4242 + run * 101 + k * 37) % SERVICES;
    const changedSlice = sliceFor(`ns${i % 50}`, `svc${i}`, i, 1 + run + k);
    let next = state;
    incremental.push(
      cpuMs(() => {
        t.upsert(changedSlice);
        next = t.snapshot();
      }),
    );
    if (next.changed.size !== 1) throw new Error(`expected one changed service port, got ${next.changed.size}`);
  }
}
// The same single-slice changes against a model of SERVICES / 10.
const small: number[] = [];
{
  const n = Math.floor(SERVICES / 10);
  const t = new ChangeTracker({ nodeName: 'node7' });
  for (let i = 0; i < n; i++) {
    t.upsert(objs[2 * i]);
    t.upsert(objs[2 * i + 1]);
  }
  t.snapshot();
  for (let k = 0; k < 101 * RUNS; k++) {
    const i = (k * 37) % n;
    const changedSlice = sliceFor(`ns${i % 50}`, `svc${i}`, i, 1 + k);
    small.push(
      cpuMs(() => {
        t.upsert(changedSlice);
        t.snapshot();
      }),
    );
  }
}
const scaling = median(incremental) / Math.max(median(small), 0.001);

const rows = [
  ['ProxyState from scratch (10k svc × 10 ep)', `${median(scratch).toFixed(0)} ms`, '≤ 1000 ms', median(scratch) <= 1000],
  ['  the same, wall clock', `${median(scratchWall).toFixed(0)} ms`, '≤ 1000 ms', median(scratchWall) <= 1000],
  ['  reference: structuredClone of the objects', `${median(reference).toFixed(0)} ms`, '', true],
  ['  ratio model / reference', `${(median(scratch) / median(reference)).toFixed(2)}×`, '', true],
  ['incremental update after one slice change', `${median(incremental).toFixed(2)} ms`, '≤ 10 ms', median(incremental) <= 10],
  [`  the same at ${Math.floor(SERVICES / 10)} Services`, `${median(small).toFixed(2)} ms`, '', true],
  ['  ratio (a change costs what changed: ~1)', `${scaling.toFixed(2)}×`, '≤ 2×', scaling <= 2],
  ['process RSS with the model built', `${rssMB.toFixed(0)} MB`, '≤ 300 MB', rssMB <= 300],
  ['  heap held by the model (after a full GC)', `${modelMB.toFixed(0)} MB`, '', true],
  ['    of which the objects it keeps', `${heldMB.toFixed(0)} MB`, '', true],
  ['    and the ProxyState', `${(modelMB - heldMB).toFixed(0)} MB`, '', true],
  ['  heap held by its input objects', `${inputMB.toFixed(0)} MB`, '', true],
] as const;
console.log(`bench:model — ${SERVICES} Services × ${ENDPOINTS} endpoints, ${NODES} nodes, median of ${RUNS} runs, CPU time`);
for (const [what, value, target, ok] of rows) console.log(`${what.padEnd(46)} ${value.padStart(10)}  ${target.padEnd(10)} ${target ? (ok ? 'met' : 'MISSED') : ''}`);
