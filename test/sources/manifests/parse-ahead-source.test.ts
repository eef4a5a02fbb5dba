// The live source's first load through the parse worker (parse-ahead.ts): the same state as
// the load on the main thread alone, whatever the worker does, and folder changes during the
// load applied after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import type { ProxyState } from '../../../src/model/types.js';
import { manifestsSource, type ManifestsSourceOptions } from '../../../src/sources/manifests/source.js';
import { silentLogger } from '../../../src/util/log.js';
import { endpoints, Folder, poll, pod, service, startSource } from './harness.js';

const oddWorker = new URL('./odd-parse-worker.js', import.meta.url);
const NO_WORKER: ManifestsSourceOptions = { parseAhead: { minBytes: Infinity } };
const WORKER: ManifestsSourceOptions = { parseAhead: { minBytes: 0, mainHelps: false } };

/** The state as comparable text (Maps as entries, the clock's trigger times left out). */
function canonical(s: ProxyState): string {
  const conv = (v: unknown): unknown => {
    if (v instanceof Map) return [...v.entries()].map(([k, x]) => [k, conv(x)]);
    if (v instanceof Set) return [...v].map(conv);
    if (Array.isArray(v)) return v.map(conv);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)]));
    return v;
  };
  const { generation: _, ...rest } = s;
  return JSON.stringify(conv(rest), (k, v) => (k === 'triggerTime' || k === 'lastChangeTriggerTimes' ? 0 : v));
}

function mixedFolder(): Folder {
  const f = new Folder();
  const pods = (app: string, from: number, n: number) => Array.from({ length: n }, (_, i) => pod(`${app}-${from + i}`, app, `127.0.${from}.${i + 1}`, 8080)).join('---\n');
  f.write('a.yaml', [service('a', 'a'), pods('a', 1, 30)].join('---\n'));
  f.write('b.yaml', [service('b', 'b', '  type: NodePort\n'), pods('b', 2, 20), service('a', 'b')].join('---\n')); // a duplicate
  f.write('c/list.yaml', `apiVersion: v1\nkind: List\nitems:\n- &s ${service('c', 'a').replace(/\n/g, '\n  ').trimEnd()}\n`);
  f.write('c/nan.yaml', service('nan', 'a').replace('port: 80', 'port: .nan'));
  f.write('d.json', JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'j', namespace: 'demo' }, spec: { selector: { app: 'b' }, ports: [{ port: 81 }] } }));
  f.write('e-broken.yaml', 'kind: Service\nmetadata: {name: x\n');
  f.write('f.yaml', `- a list\n---\n${pods('f', 3, 5)}`);
  return f;
}

async function stateOf(dir: string, opts: ManifestsSourceOptions): Promise<string> {
  rmSync(`${dir}/.kproxy-state`, { recursive: true, force: true });
  const r = await startSource(dir, {}, opts);
  try {
    return canonical(r.state());
  } finally {
    await r.stop();
  }
}

test('the first load through the parse worker gives the state of the load on the main thread, also when the worker fails', async () => {
  const f = mixedFolder();
  try {
    const want = await stateOf(f.dir, NO_WORKER);
    assert.match(want, /defined again/, 'the folder has a duplicate');
    assert.match(want, /expected an integer, got NaN/, 'and a NaN, which the worker hands over as text');
    assert.equal(await stateOf(f.dir, WORKER), want);
    assert.equal(await stateOf(f.dir, { parseAhead: { minBytes: 0 } }), want, 'the main thread helping');
    process.env.ODD_PARSE_WORKER = 'die';
    try {
      assert.equal(await stateOf(f.dir, { parseAhead: { ...WORKER.parseAhead, script: oddWorker } }), want, 'the worker dies after two files');
    } finally {
      delete process.env.ODD_PARSE_WORKER;
    }
    assert.equal(await stateOf(f.dir, { parseAhead: { minBytes: 0, script: new URL('./no-such-worker.js', import.meta.url) } }), want, 'no worker at all');
  } finally {
    f.cleanup();
  }
});

test('folder changes during the first load wait for it, then apply in order', async () => {
  const f = new Folder();
  f.write('a.yaml', service('a', 'a'));
  f.write('b.yaml', pod('p', 'a', '127.0.0.11', 8080));
  f.write('c.yaml', service('c', 'a'));
  f.write('d.yaml', service('d', 'a'));
  const config: Config = { ...defaultConfig(), mode: 'userspace', manifests: f.dir, hostnameOverride: 'node-a' };
  const tracker = new ChangeTracker({ nodeName: 'node-a', machineAddresses: ['192.0.2.1'] });
  let changes = 0;
  // Each file reaches the main thread 150 ms after the one before: the changes below land mid-load.
  const source = manifestsSource({ config, sink: tracker, changed: () => changes++, log: silentLogger() }, { debounceMs: 10, parseAhead: { minBytes: 0, mainHelps: false, script: oddWorker } });
  process.env.ODD_PARSE_WORKER = 'slow';
  try {
    const started = source.start();
    await new Promise((r) => setTimeout(r, 60));
    f.remove('d.yaml'); // not read yet: the worker reads it as gone
    f.write('b.yaml', pod('p', 'a', '127.0.0.12', 8080));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(changes, 0, 'nothing is applied before the first load is done');
    await started;
    const done = await poll(
      () => tracker.snapshot(),
      (s) => endpoints(s, 'demo/a')[0] === '127.0.0.12:8080' && ![...s.servicePorts.values()].some((p) => p.name === 'd'),
      3000,
    );
    // The removal came before the first load read d.yaml: read then as missing, it would
    // stay an error if the removal had been applied first (or never).
    assert.deepEqual(done.value.errors, []);
    assert.deepEqual(endpoints(done.value, 'demo/c'), ['127.0.0.12:8080']);
  } finally {
    delete process.env.ODD_PARSE_WORKER;
    await source.stop();
    f.cleanup();
  }
});

test('stop() during the first load ends it and the worker', async () => {
  const f = new Folder();
  for (let i = 0; i < 5; i++) f.write(`s${i}.yaml`, service(`s${i}`, 'a'));
  const config: Config = { ...defaultConfig(), mode: 'userspace', manifests: f.dir, hostnameOverride: 'node-a' };
  const tracker = new ChangeTracker({ nodeName: 'node-a', machineAddresses: ['192.0.2.1'] });
  let changes = 0;
  const source = manifestsSource({ config, sink: tracker, changed: () => changes++, log: silentLogger() }, { parseAhead: { minBytes: 0, mainHelps: false, script: oddWorker } });
  process.env.ODD_PARSE_WORKER = 'slow';
  try {
    const started = source.start();
    await new Promise((r) => setTimeout(r, 200));
    await source.stop();
    await started;
    assert.equal(changes, 0, 'the load stopped before it was done');
  } finally {
    delete process.env.ODD_PARSE_WORKER;
    f.cleanup();
  }
});
