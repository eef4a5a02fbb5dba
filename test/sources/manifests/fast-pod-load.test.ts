// The load's shortcut for common-shape Pods (read.ts `pods: true`, fast-pod.ts) must change
// nothing but the time taken: the same objects on demand, the same catalog decisions (what a
// re-read touches, who wins a duplicate) and the same ProxyState as the general path, which
// parses every document into an object, checks it strictly and validates it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeTracker } from '../../../src/model/tracker.js';
import type { ProxyState } from '../../../src/model/types.js';
import { ManifestCatalog, objectId } from '../../../src/sources/manifests/catalog.js';
import { StandaloneCluster } from '../../../src/sources/manifests/cluster.js';
import { parseManifestText } from '../../../src/sources/manifests/read.js';
import { fingerprintOf } from '../../../src/util/fingerprint.js';
import { silentLogger } from '../../../src/util/log.js';
import { generate, rng } from './pod-fuzz.js';

/** A Pod in the shape generated folders and most hand-written ones have. */
const pod = (name: string, app: string, ip: string, extra = '') =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    `  name: ${name}`,
    '  namespace: demo',
    `  labels: {app: ${app}, tier: backend}`,
    'spec:',
    '  nodeName: node-a',
    '  containers:',
    '  - name: app',
    '    ports: [{name: http, containerPort: 8080}]',
    'status:',
    `  podIP: ${ip}`,
    extra,
  ].join('\n');

const service = (name: string, app: string) =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: demo}\nspec:\n  clusterIP: 10.96.0.${10 + Number(name.slice(1))}\n  selector: {app: ${app}}\n  ports: [{name: http, port: 80, targetPort: http}]\n`;

const FILES: Record<string, string> = {
  'a.yaml': [service('s1', 'web'), pod('p1', 'web', '10.0.0.1'), pod('p2', 'web', '10.0.0.2'), pod('dup', 'web', '10.0.0.3')].join('---\n'),
  // The same Pod defined again (loses to a.yaml's), a Pod the shortcut declines (a readiness
  // probe) and one the general path refuses (a bad IP): each must end as it does without it.
  'b.yaml': [
    service('s2', 'db'),
    pod('dup', 'db', '10.0.1.3'),
    pod('probed', 'db', '10.0.1.4').replace('    ports: [{name: http, containerPort: 8080}]', '    ports: [{name: http, containerPort: 8080}]\n    readinessProbe: {tcpSocket: {port: 8080}}'),
    pod('bad', 'db', '10.0.1.999'),
    pod('q1', 'db', '10.0.1.5'),
  ].join('---\n'),
};

test('common-shape Pods come with their Pod and digest; anything asked for their object gets the object the general path makes', () => {
  for (const [file, text] of Object.entries(FILES)) {
    const fast = parseManifestText(text, file, { pods: true });
    const slow = parseManifestText(text, file);
    assert.equal(fast.objects.length, slow.objects.length);
    for (let i = 0; i < slow.objects.length; i++) {
      const f = fast.objects[i];
      const s = slow.objects[i];
      assert.equal(s.fast, undefined, 'never without pods: true');
      assert.deepEqual({ line: f.line, source: f.source, item: f.item, file: f.file }, { line: s.line, source: s.source, item: s.item, file: s.file });
      assert.deepEqual(f.object, s.object);
      if (f.fast) assert.equal(f.fast.digest, fingerprintOf(s.object));
    }
  }
  const taken = (file: string) =>
    parseManifestText(FILES[file], file, { pods: true })
      .objects.filter((o) => o.fast)
      .map((o) => o.fast!.id);
  // Without this the test would pass with a shortcut that takes nothing.
  assert.deepEqual(taken('a.yaml'), ['Pod/demo/p1', 'Pod/demo/p2', 'Pod/demo/dup']);
  assert.ok(taken('b.yaml').includes('Pod/demo/q1') && !taken('b.yaml').includes('Pod/demo/probed'));
});

test('the catalog decides the same with the shortcut: a comment-only edit touches nothing, a real edit and a duplicate taking over do', () => {
  const c = new ManifestCatalog();
  const read = (file: string, text: string) => parseManifestText(text, file, { pods: true });
  c.setFile('a.yaml', read('a.yaml', FILES['a.yaml']));
  c.setFile('b.yaml', read('b.yaml', FILES['b.yaml']));
  const w = c.winner('Pod/demo/p1')!;
  assert.ok(w.pod && w.object === undefined, 'a fresh shortcut definition holds its Pod, not an object');
  assert.equal(w.pod.ips[0], '10.0.0.1');
  c.forgetObjects(['a.yaml', 'b.yaml']);
  assert.equal(c.winner('Pod/demo/p1')!.pod, undefined, 'forgotten like an object');
  assert.ok(c.applied(c.winner('Pod/demo/p1')!));
  const text = FILES['a.yaml'];
  assert.deepEqual([...c.setFile('a.yaml', read('a.yaml', '# moved down a line\n' + text))], []);
  assert.deepEqual([...c.setFile('a.yaml', read('a.yaml', text.replace('10.0.0.2', '10.0.0.22')))], ['Pod/demo/p2']);
  c.forgetObjects(['a.yaml']);
  c.removeFile('a.yaml');
  const dup = c.winner('Pod/demo/dup')!;
  assert.equal(dup.file, 'b.yaml');
  assert.equal((c.objectOf(dup).metadata as { labels: { app: string } }).labels.app, 'db', "the loser's text, parsed when it takes over");
});

/** The folder's first ProxyState and the one after each edit (a file's new text, or null: removed), through catalog and cluster as the source wires them. */
function states(files: Record<string, string>, edits: Record<string, string | null>[], pods: boolean): string[] {
  const tracker = new ChangeTracker({ nodeName: 'node-a', machineAddresses: ['192.0.2.1'] });
  const catalog = new ManifestCatalog();
  const cluster = new StandaloneCluster({
    sink: tracker,
    log: silentLogger(),
    serviceCIDRs: ['10.96.0.0/16'],
    nodePortRange: { min: 30000, max: 32767 },
    allocationsPath: null,
    persistAllocations: false,
    live: false,
  });
  const load = (fs: Record<string, string | null>) => {
    const touched = new Set<string>();
    for (const [f, text] of Object.entries(fs)) {
      for (const id of text === null ? catalog.removeFile(f) : catalog.setFile(f, parseManifestText(text, f, { pods }))) touched.add(id);
    }
    cluster.apply(touched, catalog);
    catalog.forgetObjects(Object.keys(fs));
    cluster.flush();
    return dump(tracker.snapshot());
  };
  const out = [load(files)];
  for (const e of edits) out.push(load(e));
  cluster.stop();
  return out;
}

function dump(s: ProxyState): string {
  const plain = (v: unknown): unknown => {
    if (v instanceof Map) return [...v.entries()].map(([k, x]) => [k, plain(x)]);
    if (v instanceof Set) return [...v].map(plain);
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
    return v;
  };
  const { generation: _, ...rest } = s;
  return JSON.stringify(plain(rest), (k, v) => (k === 'triggerTime' || k === 'lastChangeTriggerTimes' ? 0 : v));
}

test('the ProxyState is the same with and without the shortcut: at load, after edits, a fixed Pod and a duplicate taking over', () => {
  const edits: Record<string, string | null>[] = [
    {
      'a.yaml': FILES['a.yaml']
        .replace('10.0.0.2', '10.0.0.22')
        .replace(
          'labels: {app: web, tier: backend}\nspec:\n  nodeName: node-a\n  containers:\n  - name: app\n    ports: [{name: http, containerPort: 8080}]\nstatus:\n  podIP: 10.0.0.1',
          'labels: {app: web, tier: front}\nspec:\n  nodeName: node-a\n  containers:\n  - name: app\n    ports: [{name: http, containerPort: 8080}]\nstatus:\n  podIP: 10.0.0.1',
        ),
    },
    { 'b.yaml': FILES['b.yaml'].replace('10.0.1.999', '10.0.1.9') },
    { 'a.yaml': null },
  ];
  const fast = states(FILES, edits, true);
  const slow = states(FILES, edits, false);
  assert.equal(fast.length, slow.length);
  for (let i = 0; i < slow.length; i++) assert.equal(fast[i], slow[i], `state ${i}`);
  // What the states hold (so that equal cannot mean equally empty).
  assert.match(slow[0], /10\.0\.0\.1/);
  assert.match(slow[0], /10\.0\.1\.999/, 'the bad IP is reported');
  assert.doesNotMatch(slow[2], /10\.0\.1\.999/);
  assert.match(slow[3], /10\.0\.1\.3/, "b.yaml's dup took over");
});

// ---- random folders (the Pod generator of pod-fuzz.ts) ----

const CASES = Number(process.env.PODFUZZ_FOLDERS ?? 200);

const randomService = (i: number) =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}, namespace: bench}\nspec:\n  selector: {app: app-${i}}\n  ports: [{name: http, port: 80, targetPort: http}]\n`;
const SEPARATORS = ['---\n', '---\n', '--- \n', '---\n\n', '--- # c\n', '...\n---\n', '---'];

function folder(seed: number): Record<string, string> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const files: Record<string, string> = {};
  const nf = 1 + Math.floor(r() * 3);
  for (let f = 0; f < nf; f++) {
    const docs: string[] = [];
    const nd = 1 + Math.floor(r() * 8);
    for (let d = 0; d < nd; d++) {
      const x = r();
      if (x < 0.05) docs.push(randomService(Math.floor(r() * 7)));
      else {
        // A few names only, so that Pods collide across files and documents.
        let doc = generate(seed * 1000 + f * 100 + d, x < 0.6).doc;
        if (r() < 0.5) doc = doc.replace(/name: pod-\d+/, `name: pod-${Math.floor(r() * 5)}`);
        // Now and then inside a List (the general path's; never the shortcut's).
        if (r() < 0.05) doc = `apiVersion: v1\nkind: List\nitems:\n- ${doc.trim().split('\n').join('\n  ')}\n`;
        docs.push(doc);
      }
    }
    let text = '';
    for (const d of docs) text += (text && !text.endsWith('\n') ? '\n' : '') + (text ? pick(SEPARATORS) : '') + d;
    // A .json name for YAML text: JSON.parse fails, then the YAML path as for any file.
    files[`f${f}.${r() < 0.1 ? 'json' : 'yaml'}`] = text;
  }
  // Services that select the generated Pods (their namespaces and app labels), by port name and number.
  const svcs: string[] = [];
  for (const ns of ['bench', 'default', 'kube-system', 'ns-1', 'prod']) {
    for (let i = 0; i < 7; i++)
      svcs.push(
        `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}, namespace: ${ns}}\nspec:\n  selector: {app: app-${i}}\n  ports: [{name: http, port: 80, targetPort: http}, {name: n, port: 81, targetPort: 8080}, {name: u, port: 53, protocol: UDP, targetPort: dns}]\n`,
      );
  }
  files['svc.yaml'] = svcs.join('---\n');
  return files;
}

test('random folders: the same objects, and the same ProxyState at load and after edits, with and without the Pod shortcut', () => {
  let fastTaken = 0;
  for (let seed = 1; seed <= CASES; seed++) {
    const files = folder(seed);
    for (const [f, text] of Object.entries(files)) {
      const a = parseManifestText(text, f, { pods: true });
      const b = parseManifestText(text, f);
      assert.deepEqual(a.errors, b.errors, `seed ${seed} ${f}`);
      assert.equal(a.partial, b.partial);
      assert.equal(a.objects.length, b.objects.length, `seed ${seed} ${f}`);
      for (let i = 0; i < a.objects.length; i++) {
        const x = a.objects[i];
        const y = b.objects[i];
        assert.deepEqual({ line: x.line, source: x.source, item: x.item, file: x.file }, { line: y.line, source: y.source, item: y.item, file: y.file });
        assert.equal(JSON.stringify(x.object), JSON.stringify(y.object), `seed ${seed} ${f} #${i}`);
        if (x.fast) {
          fastTaken++;
          assert.equal(x.fast.id, objectId(y.object));
          assert.equal(x.fast.digest, fingerprintOf(y.object));
        }
      }
    }
    // Edits: a file rewritten with another seed's documents, a file removed, a file rewritten as before with a comment.
    const other = folder(seed + 100000);
    const names = Object.keys(files);
    const edits: Record<string, string | null>[] = [
      { [names[0]]: other[Object.keys(other)[0]] },
      { [names[names.length - 1]]: '# only a comment\n' + files[names[names.length - 1]] },
      { [names[0]]: null },
    ];
    const fast = states(files, edits, true);
    const slow = states(files, edits, false);
    for (let i = 0; i < slow.length; i++) assert.equal(fast[i], slow[i], `seed ${seed}, state ${i}:\n${JSON.stringify(files)}`);
  }
  assert.ok(fastTaken > CASES, `only ${fastTaken} documents took the shortcut`);
});
