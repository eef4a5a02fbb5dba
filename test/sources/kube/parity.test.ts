// The same objects give the same ProxyState whichever source delivered them: a manifests
// folder, or an API server through list/watch. Objects: every conformance test's inputs
// (../shared) and the mixed fixture with its invalid objects.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { defaultConfig } from '../../../src/config/load.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import type { EndpointSlice, ProxyState } from '../../../src/model/types.js';
import { loadManifestsOnce } from '../../../src/sources/manifests/once.js';
import { kubeSource } from '../../../src/sources/kube/source.js';
import { silentLogger } from '../../../src/util/log.js';
import { SyncRunner } from '../../../src/sync/runner.js';
import type { Dataplane } from '../../../src/dataplanes/dataplane.js';
import { TestAPIServer, writeKubeconfig, type Obj } from './apiserver.js';
import { service, slice } from './objects.js';
import { CONFORMANCE_FILE, conformanceSkip } from '../../helpers/conformance.js';

const NODE = 'test-node';

function tracker(): ChangeTracker {
  return new ChangeTracker({ nodeName: NODE, machineAddresses: ['192.168.0.2'] });
}

function fromManifests(objects: Obj[]): ProxyState {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-parity-'));
  try {
    writeFileSync(join(dir, 'objects.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    const t = tracker();
    loadManifestsOnce(dir, t);
    return t.snapshot();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fromAPI(objects: Obj[]): Promise<ProxyState> {
  const api = new TestAPIServer();
  await api.start();
  const cfg = defaultConfig();
  cfg.hostnameOverride = NODE;
  cfg.kubeconfig = writeKubeconfig(api.url);
  cfg.dnsBindAddress = '127.0.0.1:53'; // keep headless slices, as the manifests source does
  const t = tracker();
  const source = kubeSource({ config: cfg, sink: t, changed: () => {}, log: silentLogger() });
  try {
    for (const o of objects) api.apply(o);
    await source.start();
    return t.snapshot();
  } finally {
    await source.stop();
    await api.stop();
  }
}

/**
 * What the API server adds to every object (uid, resourceVersion, timestamps) is not compared,
 * nor the slices the standalone source writes as the EndpointSlice controller: in a cluster
 * the real controller writes those to the API server, and this test server runs none.
 */
const CONTROLLER_MANAGED = 'endpointslice-controller.k8s.io';

function comparable(s: ProxyState) {
  const strip = <T extends { uid?: string }>(o: T) => ({ ...o, uid: undefined });
  const ownSlices = (v: readonly EndpointSlice[]) => v.filter((sl) => sl.labels['endpointslice.kubernetes.io/managed-by'] !== CONTROLLER_MANAGED).sort((a, b) => a.name.localeCompare(b.name));
  return {
    node: s.node,
    servicePorts: [...s.servicePorts.values()].sort((a, b) => a.key.localeCompare(b.key)),
    services: [...s.services.entries()].sort().map(([k, v]) => [k, strip(v)]),
    endpointSlices: [...s.endpointSlices.entries()]
      .sort()
      .map(([k, v]) => [k, ownSlices(v)])
      .filter(([, v]) => v.length > 0),
    // the folder source adds where an object is (" (file.yaml:12)"); an API server has no files
    errors: s.errors.map((e) => ({ ...e, reason: e.reason.replace(/ \([^()]+:\d+\)$/, '') })),
  };
}

/**
 * The object as an API server stores it: a NodePort or LoadBalancer port without a nodePort
 * gets one. Both sources then receive the same complete object (the standalone source would
 * otherwise allocate its own, as it plays the API server).
 */
function allocated(o: Obj): Obj {
  const spec = (o as { spec?: { type?: string; ports?: { nodePort?: number }[] } }).spec;
  if (o.kind !== 'Service' || (spec?.type !== 'NodePort' && spec?.type !== 'LoadBalancer')) return o;
  const copy = structuredClone(o) as typeof o & { spec: { ports?: { nodePort?: number }[] } };
  copy.spec.ports?.forEach((p, i) => (p.nodePort ??= 30900 + i));
  return copy;
}

interface ConformanceTest {
  id: string;
  steps: { apply?: Obj[] }[];
}

describe('kube source: same objects, same ProxyState as the manifests source', () => {
  const tests = conformanceSkip() ? [] : (parse(readFileSync(CONFORMANCE_FILE, 'utf8')) as { tests: ConformanceTest[] }).tests;
  it(`for the inputs of all ${tests.length} conformance tests`, { skip: conformanceSkip() }, async () => {
    let compared = 0;
    for (const t of tests) {
      const objects = (t.steps[0]?.apply ?? []).filter((o) => ['Service', 'EndpointSlice', 'Node'].includes(String(o.kind))).map(allocated);
      if (objects.length === 0) continue;
      const a = fromManifests(objects);
      const b = await fromAPI(objects);
      assert.ok(a.servicePorts.size > 0, `${t.id}: the inputs produce service ports`);
      assert.deepStrictEqual(comparable(b), comparable(a), `${t.id}: ProxyState differs between the sources`);
      compared++;
    }
    assert.ok(compared >= 30, `compared ${compared} tests`);
  });

  it('including the objects it rejects, reported alike', async () => {
    const file = join(process.cwd(), 'test', 'fixtures', 'mixed');
    const objects = [...parseAllDocuments(readFileSync(join(file, 'good.yaml'), 'utf8')), ...parseAllDocuments(readFileSync(join(file, 'broken.yaml'), 'utf8'))]
      .map((d) => d.toJS() as Obj)
      .filter((o) => o && typeof o === 'object' && ['Service', 'EndpointSlice', 'Node'].includes(String(o.kind)) && o.metadata?.name);
    const a = fromManifests(objects);
    const b = await fromAPI(objects);
    assert.ok(a.errors.length > 0, 'the fixture has invalid objects');
    assert.deepStrictEqual(comparable(b), comparable(a));
  });
});

describe('kube source behind the sync runner', () => {
  it('the first sync already holds the full state (never an empty ruleset)', async () => {
    const api = new TestAPIServer();
    await api.start();
    for (let i = 0; i < 50; i++) {
      api.apply(service('default', `s${i}`, `10.96.1.${i}`));
      api.apply(slice('default', `s${i}`, [`10.244.0.${i}`]));
    }
    const cfg = defaultConfig();
    cfg.hostnameOverride = NODE;
    cfg.kubeconfig = writeKubeconfig(api.url);
    const t = tracker();
    const synced: number[] = [];
    const dataplane: Dataplane = {
      mode: 'recording',
      async sync(state) {
        synced.push([...state.servicePorts.values()].filter((sp) => sp.allReachableEndpoints.length > 0).length);
      },
    };
    const runner = new SyncRunner({ tracker: t, dataplane, minSyncPeriodMs: 10, syncPeriodMs: 60_000 });
    const source = kubeSource({ config: cfg, sink: t, changed: () => runner.requestSync(), log: silentLogger() });
    try {
      await source.start();
      runner.start();
      await runner.idle();
      assert.equal(synced[0], 50, 'the first sync programs every service with its endpoints');
    } finally {
      await runner.stop();
      await source.stop();
      await api.stop();
    }
  });
});
