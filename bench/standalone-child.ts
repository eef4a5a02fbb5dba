// The kproxy side of bench:standalone, in its own process so that its CPU time and RSS can
// be read from /proc: the live manifests source, the ChangeTracker and the sync runner (with
// a dataplane that only takes the state), exactly as `kproxy run` wires them.
//   probe DIR: run until killed; answer "stats" messages with probe counts and readiness.
//   load DIR:  time start() + the first snapshot, then the parse-only reference; print JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { ChangeTracker } from '../src/model/tracker.js';
import { manifestsSource } from '../src/sources/manifests/source.js';
import { listManifestFiles, readManifestFile } from '../src/sources/manifests/read.js';
import { SyncRunner } from '../src/sync/runner.js';
import { silentLogger } from '../src/util/log.js';

const [mode, dir] = process.argv.slice(2);
const config: Config = { ...defaultConfig(), mode: 'userspace', manifests: dir, hostnameOverride: 'bench-node' };
const tracker = new ChangeTracker({ nodeName: 'bench-node', machineAddresses: ['127.0.0.1'] });
let readyEndpoints = 0;
const runner = new SyncRunner({
  tracker,
  dataplane: {
    mode: 'none',
    async sync(state) {
      let n = 0;
      for (const sp of state.servicePorts.values()) n += sp.clusterEndpoints?.length ?? 0;
      readyEndpoints = n;
    },
  },
  minSyncPeriodMs: 1000,
  syncPeriodMs: 30_000,
});
const source = manifestsSource({ config, sink: tracker, changed: () => runner.requestSync(), log: silentLogger() });

if (mode === 'probe') {
  await source.start();
  runner.start();
  process.on('message', (m) => {
    if (m === 'stats' || m === 'stats-gc') {
      if (global.gc && m === 'stats-gc') global.gc();
      process.send!({ ...source.cluster.probeCounts, readyEndpoints, heapMB: process.memoryUsage().heapUsed / 2 ** 20 });
    }
  });
  process.send!({ started: true });
} else {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await source.start();
  const state = tracker.snapshot();
  const loadMs = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const loadCpuMs = (cpu.user + cpu.system) / 1000;
  let endpoints = 0;
  for (const sp of state.servicePorts.values()) endpoints += sp.clusterEndpoints?.length ?? 0;
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  // One edit in the big folder: a Pod moves to another Service (its file has 1,100 objects).
  const files = listManifestFiles(dir);
  const file = join(dir, files[0]);
  const text = readFileSync(file, 'utf8');
  const t2 = performance.now();
  writeFileSync(file, text.replace('labels: {app: app-0,', 'labels: {app: app-1,'));
  const moved = () => {
    const s = tracker.snapshot();
    const eps = (svc: string) => [...s.servicePorts.values()].find((p) => p.name === svc)?.clusterEndpoints?.length ?? 0;
    return eps('svc-1') === 11 && eps('svc-0') === 9;
  };
  while (!moved() && performance.now() - t2 < 10_000) await new Promise((r) => setTimeout(r, 10));
  const editMs = performance.now() - t2;
  await source.stop();
  // The reference: reading the files and parsing them with the YAML library (js-yaml) alone.
  // Then the same with kproxy's fast path for the common shapes (fast-yaml.ts), for the record.
  const parse = (fastPath: boolean) => {
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    let objects = 0;
    for (const f of listManifestFiles(dir)) objects += readManifestFile(dir, f, undefined, { fastPath }).objects.length;
    const pcpu = process.cpuUsage(c1);
    return { ms: performance.now() - t1, cpuMs: (pcpu.user + pcpu.system) / 1000, objects };
  };
  const lib = parse(false);
  const fast = parse(true);
  process.stdout.write(
    JSON.stringify({
      loadMs,
      loadCpuMs,
      parseMs: lib.ms,
      parseCpuMs: lib.cpuMs,
      fastParseMs: fast.ms,
      fastParseCpuMs: fast.cpuMs,
      editMs,
      rssMB,
      servicePorts: state.servicePorts.size,
      endpoints,
      objects: lib.objects,
      errors: state.errors.length,
    }) + '\n',
  );
}
