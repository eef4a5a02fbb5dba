import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { endpoints, Folder, poll, pod, port, service, startSource } from './harness.js';
import { startBackend } from '../pods/helpers.js';

test('a label edit moves a Pod between Services within 1 s', async () => {
  const f = new Folder();
  f.write('svc.yaml', `${service('a', 'a')}---\n${service('b', 'b')}`);
  f.write('pods/p.yaml', pod('p1', 'a', '127.0.0.11', 8081) + '---\n' + pod('p2', 'b', '127.0.0.12', 8082));
  const r = await startSource(f.dir);
  try {
    let s = r.state();
    assert.deepEqual(endpoints(s, 'demo/a'), ['127.0.0.11:8081']);
    assert.deepEqual(endpoints(s, 'demo/b'), ['127.0.0.12:8082']);
    assert.ok(port(s, 'demo/a')!.clusterIP.startsWith('127.96.'), 'userspace default service CIDR');
    f.write('pods/p.yaml', pod('p1', 'b', '127.0.0.11', 8081) + '---\n' + pod('p2', 'b', '127.0.0.12', 8082));
    const moved = await poll(r.state, (st) => endpoints(st, 'demo/b').length === 2 && endpoints(st, 'demo/a').length === 0, 3000);
    assert.ok(moved.ms < 1000, `took ${moved.ms} ms`);
    assert.ok(r.changes >= 2, 'the source asked for a sync');
    // A new file in a new subdirectory is picked up too.
    f.write('more/deeper/c.yaml', `${service('c', 'b')}`);
    const added = await poll(r.state, (st) => endpoints(st, 'demo/c').length === 2, 3000);
    assert.ok(added.ms < 1000, `took ${added.ms} ms`);
    s = added.value;
    assert.deepEqual(s.errors, []);
  } finally {
    await r.stop();
    f.cleanup();
  }
});

test('a file that stops parsing keeps its objects and reports path and line until fixed', async () => {
  const f = new Folder();
  const good = `${service('a', 'a')}---\n${pod('p1', 'a', '127.0.0.11', 8081)}`;
  f.write('app.yaml', good);
  f.write('other.yaml', service('b', 'b'));
  const r = await startSource(f.dir);
  try {
    f.write('app.yaml', good.replace('selector: {app: a}', 'selector: {app: a\n  ports: [oops'));
    const broken = await poll(r.state, (st) => st.errors.some((e) => e.kind === 'File'), 3000);
    const e = broken.value.errors.find((x) => x.kind === 'File')!;
    assert.equal(e.name, 'app.yaml');
    assert.match(e.field, /^line \d+$/);
    assert.ok(Number(e.field.slice(5)) >= 4, `line ${e.field}`);
    assert.deepEqual(endpoints(broken.value, 'demo/a'), ['127.0.0.11:8081'], 'the old objects keep working');
    f.write('other.yaml', service('b', 'a'));
    const others = await poll(r.state, (st) => endpoints(st, 'demo/b').length === 1, 3000);
    assert.ok(
      others.value.errors.some((x) => x.kind === 'File'),
      'still reported',
    );
    f.write('app.yaml', good.replace('8081', '8082'));
    const fixed = await poll(r.state, (st) => endpoints(st, 'demo/a')[0] === '127.0.0.11:8082', 3000);
    assert.deepEqual(fixed.value.errors, []);
  } finally {
    await r.stop();
    f.cleanup();
  }
});

test('the same object in two files: an error, the first one wins, the other takes over when it goes', async () => {
  const f = new Folder();
  f.write('a.yaml', service('web', 'a', '  clusterIP: 127.96.1.1\n'));
  f.write('b.yaml', service('web', 'a', '  clusterIP: 127.96.2.2\n'));
  const r = await startSource(f.dir);
  try {
    let s = r.state();
    assert.equal(port(s, 'demo/web')!.clusterIP, '127.96.1.1');
    assert.deepEqual(
      s.errors.map((e) => [e.kind, e.namespace, e.name, e.field, e.reason]),
      [['Service', 'demo', 'web', 'metadata.name', 'defined again in b.yaml:1; the definition in a.yaml:1 wins']],
    );
    // An edit to the winner keeps it the winner (it was there first).
    f.write('a.yaml', service('web', 'a', '  clusterIP: 127.96.1.3\n'));
    s = (await poll(r.state, (st) => port(st, 'demo/web')?.clusterIP === '127.96.1.3', 3000)).value;
    assert.equal(s.errors.length, 1);
    f.remove('a.yaml');
    s = (await poll(r.state, (st) => port(st, 'demo/web')?.clusterIP === '127.96.2.2', 3000)).value;
    assert.deepEqual(s.errors, []);
  } finally {
    await r.stop();
    f.cleanup();
  }
});

test('a Pod whose file vanishes, or that gets a deletionTimestamp, is terminating for its grace period, then gone', async () => {
  const f = new Folder();
  f.write('svc.yaml', service('a', 'a'));
  const grace = 'spec:\n  terminationGracePeriodSeconds: 1\n';
  f.write('p1.yaml', pod('p1', 'a', '127.0.0.11', 8081).replace('spec:\n', grace));
  f.write('p2.yaml', pod('p2', 'a', '127.0.0.12', 8081).replace('spec:\n', grace));
  const r = await startSource(f.dir);
  // The model keeps no targetRef: each Pod is known by its address.
  const podOf: Record<string, string> = { '127.0.0.11': 'p1', '127.0.0.12': 'p2' };
  const conditions = (st: ReturnType<typeof r.state>) => Object.fromEntries((st.endpointSlices.get('demo/a') ?? []).flatMap((sl) => sl.endpoints.map((e) => [podOf[e.addresses[0]], e.conditions])));
  try {
    assert.deepEqual(conditions(r.state()), { p1: { ready: true, serving: true, terminating: false }, p2: { ready: true, serving: true, terminating: false } });
    f.remove('p1.yaml');
    f.write('p2.yaml', pod('p2', 'a', '127.0.0.12', 8081).replace('namespace: demo,', 'namespace: demo, deletionTimestamp: "2026-01-01T00:00:00Z",').replace('spec:\n', grace));
    const t0 = performance.now();
    const term = await poll(r.state, (st) => conditions(st).p1?.terminating === true && conditions(st).p2?.terminating === true, 2000);
    assert.deepEqual(conditions(term.value), { p1: { ready: false, serving: true, terminating: true }, p2: { ready: false, serving: true, terminating: true } });
    // Still reachable as the terminating fallback (no ready endpoint is left).
    assert.deepEqual(endpoints(term.value, 'demo/a'), ['127.0.0.11:8081', '127.0.0.12:8081']);
    const gone = await poll(r.state, (st) => Object.keys(conditions(st)).length === 0, 3000);
    const ms = performance.now() - t0;
    assert.ok(ms >= 900, `gone after ${ms} ms, grace period 1 s`);
    assert.deepEqual(endpoints(gone.value, 'demo/a'), []);
  } finally {
    await r.stop();
    f.cleanup();
  }
});

test('readiness probes drive the endpoints the tracker sees, from the first state on', async () => {
  const b = await startBackend();
  const f = new Folder();
  f.write(
    'app.yaml',
    `${service('a', 'a')}---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: demo, labels: {app: a}}
spec:
  containers:
  - name: c
    ports: [{name: http, containerPort: ${b.port}}]
    readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1, failureThreshold: 1}
status: {podIP: 127.0.0.1}
`,
  );
  const r = await startSource(f.dir);
  try {
    // start() waited for the first probe answers: the first state already has the Pod.
    const first = r.state();
    assert.equal(endpoints(first, 'demo/a').length, 1);
    assert.deepEqual(first.errors, []);
    b.status = 503;
    const gone = await poll(r.state, (st) => endpoints(st, 'demo/a').length === 0, 3000);
    assert.equal(port(gone.value, 'demo/a')!.hasEndpoints, false);
    b.status = 200;
    await poll(r.state, (st) => endpoints(st, 'demo/a').length === 1, 3000);
  } finally {
    await r.stop();
    await b.close();
    f.cleanup();
  }
});

test('allocation is stable across restarts and persisted under .kproxy-state', async () => {
  const f = new Folder();
  f.write('svc.yaml', Array.from({ length: 20 }, (_, i) => service(`s${i}`, 'x', '  type: NodePort\n')).join('---\n'));
  const read = (st: ReturnType<typeof r1.state>) => Object.fromEntries([...st.servicePorts.values()].map((p) => [p.name, `${p.clusterIP}:${p.nodePort}`]));
  const r1 = await startSource(f.dir);
  const first = read(r1.state());
  await r1.stop();
  assert.equal(Object.keys(first).length, 20);
  assert.ok(existsSync(f.path('.kproxy-state/allocations.json')));
  const saved = JSON.parse(readFileSync(f.path('.kproxy-state/allocations.json'), 'utf8'));
  assert.equal(Object.keys(saved.services).length, 20);
  // Restart with other Services added before them: every address and port is kept.
  f.write('0-first.yaml', Array.from({ length: 20 }, (_, i) => service(`new${i}`, 'x', '  type: NodePort\n')).join('---\n'));
  const r2 = await startSource(f.dir);
  try {
    const second = read(r2.state());
    for (const [k, v] of Object.entries(first)) assert.equal(second[k], v, k);
    assert.equal(new Set(Object.values(second)).size, 40);
  } finally {
    await r2.stop();
    f.cleanup();
  }
});

test('node identity, unknown kinds, Pods without IP, invalid Pods: nothing else stops working', async () => {
  const f = new Folder();
  f.write(
    'node.yaml',
    `apiVersion: v1
kind: Node
metadata: {name: node-a, labels: {topology.kubernetes.io/zone: zone-a}}
status: {addresses: [{type: InternalIP, address: 192.0.2.10}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ignored, namespace: demo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored, namespace: demo}
`,
  );
  f.write(
    'app.yaml',
    `${service('a', 'a')}---\n${pod('p1', 'a', '127.0.0.11', 8081)}---\n${pod('noip', 'a', '', 8081).replace('status: {podIP: }', 'status: {}')}---\n${pod('bad', 'a', 'not-an-ip', 8081)}`,
  );
  const r = await startSource(f.dir);
  try {
    const s = r.state();
    assert.equal(s.node.zone, 'zone-a');
    assert.deepEqual(s.node.addresses, ['192.0.2.10']);
    assert.deepEqual(endpoints(s, 'demo/a'), ['127.0.0.11:8081']);
    assert.equal(s.endpointSlices.get('demo/a')![0].endpoints[0].zone, 'zone-a');
    assert.deepEqual(
      s.errors.map((e) => `${e.kind} ${e.namespace}/${e.name} ${e.field}`),
      ['Pod demo/bad status.podIP'],
    );
    f.remove('node.yaml');
    const machine = await poll(r.state, (st) => st.node.addresses[0] === '192.0.2.1', 3000);
    assert.equal(machine.value.node.known, false);
  } finally {
    await r.stop();
    f.cleanup();
  }
});

test('10,000 Pods in one file load and land in slices of at most 100', async () => {
  const f = new Folder();
  const docs = [service('big', 'big')];
  for (let i = 0; i < 10_000; i++) docs.push(pod(`p${i}`, 'big', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 8080));
  f.write('big.yaml', docs.join('---\n'));
  const t0 = performance.now();
  const r = await startSource(f.dir);
  const ms = performance.now() - t0;
  try {
    const s = r.state();
    const slices = s.endpointSlices.get('demo/big')!;
    assert.equal(slices.length, 100);
    assert.ok(slices.every((sl) => sl.endpoints.length === 100));
    assert.equal(port(s, 'demo/big')!.clusterEndpoints!.length, 10_000);
    assert.deepEqual(s.errors, []);
    console.log(`# 10,000 Pods in one file: loaded in ${Math.round(ms)} ms`);
  } finally {
    await r.stop();
    f.cleanup();
  }
});

test('a duplicate that comes and goes after the start leaves the winner (known only by its digest) in effect', async () => {
  const f = new Folder();
  f.write('a.yaml', service('web', 'a', '  clusterIP: 127.96.1.1\n'));
  const r = await startSource(f.dir, {}, { debounceMs: 20 });
  try {
    assert.equal(port(r.state(), 'demo/web')!.clusterIP, '127.96.1.1');
    f.write('b.yaml', service('web', 'a', '  clusterIP: 127.96.2.2\n'));
    let s = (await poll(r.state, (st) => st.errors.length === 1, 3000)).value;
    assert.equal(s.errors[0].reason, 'defined again in b.yaml:1; the definition in a.yaml:1 wins');
    assert.equal(port(s, 'demo/web')!.clusterIP, '127.96.1.1');
    f.remove('b.yaml');
    s = (await poll(r.state, (st) => st.errors.length === 0, 3000)).value;
    assert.equal(port(s, 'demo/web')!.clusterIP, '127.96.1.1');
    // A comment-only edit of the winner changes nothing; a real edit is applied.
    f.write('a.yaml', '# moved\n' + service('web', 'a', '  clusterIP: 127.96.1.1\n'));
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(port(r.state(), 'demo/web')!.clusterIP, '127.96.1.1');
    assert.deepEqual(r.state().errors, []);
    f.write('a.yaml', service('web', 'a', '  clusterIP: 127.96.1.4\n'));
    s = (await poll(r.state, (st) => port(st, 'demo/web')?.clusterIP === '127.96.1.4', 3000)).value;
    assert.deepEqual(s.errors, []);
  } finally {
    await r.stop();
    f.cleanup();
  }
});
