// fastPod (src/sources/manifests/fast-pod.ts) against the general path it stands in for:
// parse (fast-yaml.ts, else js-yaml) → limits → not a List → objectId → strict validation →
// validatePod → no exec probe → fingerprintOf. On every document fastPod either declines or
// gives exactly that path's id, Pod (values, key order, frozen parts) and digest; and it must
// actually take the common shapes, or the load it exists for gains nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import type { KubeObject } from '../../../src/api/types.js';
import { objectId } from '../../../src/sources/manifests/catalog.js';
import { fastPod, type FastPod } from '../../../src/sources/manifests/fast-pod.js';
import { FALLBACK, fastPathEligible, parseCommonYAML } from '../../../src/sources/manifests/fast-yaml.js';
import { checkExpansion, expandedNodeBudget } from '../../../src/sources/manifests/limits.js';
import { kindProblem, strictProblems } from '../../../src/sources/manifests/strict.js';
import { validatePod } from '../../../src/sources/pods/pod.js';
import { fingerprintOf } from '../../../src/util/fingerprint.js';
import { podYAML } from '../../../bench/standalone-folder.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** What the general path makes of one document that would be a Pod, or null for anything it does not accept silently. */
function general(doc: string): FastPod | null {
  let v: unknown = parseCommonYAML(doc);
  if (v === FALLBACK) {
    try {
      v = yaml.load(doc, { schema: yaml.CORE_SCHEMA, json: true });
    } catch {
      return null;
    }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  if (checkExpansion(v, expandedNodeBudget(doc.length))) return null;
  const o = v as KubeObject;
  const kind = typeof o.kind === 'string' ? o.kind : '';
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(o.items))) return null;
  if (kindProblem(kind) || strictProblems(kind, o).length > 0 || kind !== 'Pod') return null;
  const r = validatePod(o);
  if (!r.ok) return null;
  if (r.pod.containers.some((c) => c.readinessProbe?.handler.type === 'exec')) return null;
  return { id: objectId(o), pod: r.pod, digest: fingerprintOf(o) };
}

/** Which parts of a Pod are frozen, as a comparable list. */
function frozenParts(p: FastPod['pod']): boolean[] {
  const out = [Object.isFrozen(p), Object.isFrozen(p.labels), Object.isFrozen(p.ips), Object.isFrozen(p.containers)];
  for (const c of p.containers) {
    out.push(Object.isFrozen(c), Object.isFrozen(c.ports));
    for (const port of c.ports) out.push(Object.isFrozen(port));
  }
  return out;
}

/** fastPod agrees with the general path or declines; returns whether it took the document. */
function agrees(doc: string): boolean {
  if (!fastPathEligible(doc, false)) return false; // fastPod's contract: such files never reach it
  const fast = fastPod(doc);
  if (fast === null) return false;
  const ref = general(doc);
  assert.ok(ref, `fastPod took what the general path does not accept silently:\n${doc}`);
  assert.equal(fast.id, ref.id, `id of:\n${doc}`);
  assert.deepStrictEqual(fast.pod, ref.pod, `Pod of:\n${doc}`);
  assert.equal(JSON.stringify(fast.pod), JSON.stringify(ref.pod), `field order of the Pod of:\n${doc}`);
  assert.deepStrictEqual(frozenParts(fast.pod), frozenParts(ref.pod), `frozen parts of the Pod of:\n${doc}`);
  assert.equal(fast.digest, ref.digest, `digest of:\n${doc}`);
  return true;
}

const taken = (doc: string) => assert.ok(agrees(doc), `fastPod should take:\n${doc}`);
const declinedOrEqual = (doc: string) => void agrees(doc);

/** The bench folder's Pod document (the load that fastPod exists for), as a document after `---` starts. */
const folderPod = (i: number) => `\n${podYAML(i, 8080, false)}`;

test('the bench folder shape is taken, exactly as the general path reads it', () => {
  for (let i = 0; i < 300; i++) taken(folderPod(i));
  taken(folderPod(7).slice(1)); // without the newline after `---`
  taken(folderPod(7).trimEnd()); // the last document of a file, without a final newline
});

test('the common shapes are taken: block and flow forms, optional fields, any key order', () => {
  taken(`apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: demo
  uid: c51b4a3e-aaaa-bbbb-cccc-0123456789ab
  labels:
    app: web
    app.kubernetes.io/name: web
    tier: front-end
spec:
  nodeName: node-a
  hostname: web-1
  subdomain: web
  terminationGracePeriodSeconds: 0
  containers:
  - name: hello
    image: registry.example/hello:1.2
    ports:
    - name: http
      containerPort: 8080
    - {name: dns, containerPort: 53, protocol: UDP}
  - name: side
status:
  phase: Running
  hostIP: 192.168.1.4
  podIP: 10.1.2.3
  podIPs: [{ip: 10.1.2.3}, {ip: "fd00::3"}]
  conditions:
  - type: Initialized
    status: "True"
  - {type: Ready, status: "False"}
`);
  taken(`kind: Pod
status:
  podIP: fd00::1:2
spec:
  containers:
    - ports:
        - containerPort: 9000
          protocol: SCTP
      name: x
metadata: {namespace: ns, name: 'quoted-name', labels: {}}
apiVersion: "v1"
`);
  taken(`apiVersion: v1
kind: Pod
# a comment line
metadata:
  name: bare
`);
});

// ---- generated Pods in the common shape --------------------------------------------------

/** A small deterministic PRNG (mulberry32): the same documents on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(seed: number) {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  const word = () => pick(['a', 'web', 'db', 'x1', 'app', 'z']) + (r() < 0.5 ? `-${int(1000)}` : '');
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
  const ipv4 = () => `${1 + int(250)}.${int(256)}.${int(256)}.${int(256)}`;
  const ipv6 = () => pick(['fd00', '2001:db8', 'fe80', 'abcd:ef01']) + `::${int(65536).toString(16)}`;
  /** A string value, plain or quoted; quoted when it could not be plain in a flow collection (':'). */
  const scalar = (s: string, flow: boolean) => {
    const q = r();
    if (q < 0.1 || (flow && s.includes(':'))) return `"${s}"`;
    if (q < 0.2) return `'${s}'`;
    return s;
  };
  /** A mapping of [key, rendered value or nested lines] in block or flow form. */
  const map = (entries: [string, string | string[]][], indent: string, flowOk: boolean): string[] => {
    const simple = entries.every(([, v]) => typeof v === 'string');
    if (flowOk && simple && r() < 0.5) return [`{${entries.map(([k, v]) => `${k}: ${v as string}`).join(', ')}}`];
    return entries.flatMap(([k, v]) => (typeof v === 'string' ? [`${indent}${k}: ${v}`] : [`${indent}${k}:`, ...v]));
  };
  /** Renders `key: <map>` lines at indent: flow on the key's line, or block below it. */
  const keyed = (k: string, lines: string[], indent: string): string[] =>
    lines.length === 1 && lines[0].startsWith('{') ? [`${indent}${k}: ${lines[0]}`] : lines.length === 0 ? [`${indent}${k}: {}`] : [`${indent}${k}:`, ...lines];
  const seqOfMaps = (items: [string, string][][], indent: string, flowOk: boolean): string => {
    if (flowOk && r() < 0.5) return ` [${items.map((e) => `{${e.map(([k, v]) => `${k}: ${v}`).join(', ')}}`).join(', ')}]`;
    const dashIndent = r() < 0.5 ? indent : `${indent}  `;
    const lines: string[] = [];
    for (const e of items) {
      if (e.length === 0 || r() < 0.2) {
        lines.push(`${dashIndent}- {${e.map(([k, v]) => `${k}: ${v}`).join(', ')}}`);
        continue;
      }
      e.forEach(([k, v], i) => lines.push(`${i === 0 ? `${dashIndent}- ` : `${dashIndent}  `}${k}: ${v}`));
    }
    return `\n${lines.join('\n')}`;
  };

  return function pod(): string {
    const labels: [string, string][] = [];
    const keys = new Set<string>();
    for (let i = int(4); i > 0; i--) {
      const k = pick(['app', 'tier', 'app.kubernetes.io/name', 'example.com/team', 'version', 'x_y']);
      if (!keys.has(k)) labels.push([k, scalar(pick([word(), `v${int(9)}.${int(9)}`, `${int(9)}.${int(9)}.${int(9)}`, 'on', 'yes', 'Y']), true)]);
      keys.add(k);
    }
    const metadata: [string, string | string[]][] = [
      ['name', scalar(`pod-${int(100000)}`, true)],
      ...(r() < 0.8 ? [['namespace', scalar(word(), true)] as [string, string]] : []),
      ...(r() < 0.3 ? [['uid', scalar(uuid(), true)] as [string, string]] : []),
    ];
    const labelLines = map(labels, '    ', true);
    const containers: string[] = [];
    const dashIndent = r() < 0.5 ? '  ' : '    ';
    for (let c = int(3); c >= 0; c--) {
      const ports: [string, string][][] = [];
      for (let p = int(3); p > 0; p--) {
        const port: [string, string][] = [['containerPort', String(1 + int(65535))]];
        if (r() < 0.8) port.push(['name', scalar(pick(['http', 'dns', 'metrics', 'grpc-1']), true)]);
        if (r() < 0.4) port.push(['protocol', scalar(pick(['TCP', 'UDP', 'SCTP']), true)]);
        ports.push(shuffle(port));
      }
      const fields: string[] = [];
      if (r() < 0.9) fields.push(`name: ${scalar(word(), false)}`);
      if (r() < 0.5) fields.push(`image: ${pick(['nginx', 'registry.k8s.io/pause:3.9', 'busybox:1.36'])}`);
      if (ports.length > 0 || r() < 0.3) fields.push(`ports:${ports.length === 0 ? ' []' : seqOfMaps(ports, `${dashIndent}  `, true)}`);
      if (fields.length === 0) fields.push('name: only');
      shuffle(fields).forEach((f, i) => {
        // A nested block (the ports) keeps its own indentation below the field's line.
        containers.push(`${i === 0 ? `${dashIndent}- ` : `${dashIndent}  `}${f}`);
      });
    }
    const spec: string[][] = [[`  containers:`, ...containers]];
    if (r() < 0.9) spec.push([`  nodeName: ${scalar(word(), false)}`]);
    if (r() < 0.2) spec.push([`  hostname: ${scalar(word(), false)}`]);
    if (r() < 0.2) spec.push([`  subdomain: ${scalar(word(), false)}`]);
    if (r() < 0.2) spec.push([`  terminationGracePeriodSeconds: ${int(100)}`]);
    const v6 = r() < 0.3;
    const ip = v6 ? ipv6() : ipv4();
    const status: string[][] = [[`  podIP: ${v6 && r() < 0.5 ? `"${ip}"` : ip}`]];
    if (r() < 0.4) status.push([`  podIPs:${seqOfMaps([[['ip', `"${ip}"`]], ...(r() < 0.5 ? [[['ip', `"${ipv6()}"`]] as [string, string][]] : [])], '  ', true)}`]);
    if (r() < 0.5) status.push([`  phase: ${pick(['Running', 'Pending', 'Succeeded'])}`]);
    if (r() < 0.4) {
      const conds = [
        [
          ['type', 'Ready'],
          ['status', pick(['"True"', '"False"', "'True'"])],
        ] as [string, string][],
        [
          ['type', 'PodScheduled'],
          ['status', '"True"'],
        ] as [string, string][],
      ];
      status.push([
        `  conditions:${seqOfMaps(
          shuffle(conds).map((c) => shuffle(c)),
          '  ',
          true,
        )}`,
      ]);
    }
    const top: string[][] = [
      ['apiVersion: v1'],
      ['kind: Pod'],
      ['metadata:', ...map(metadata, '  ', false), ...keyed('labels', labelLines, '  ')],
      ['spec:', ...shuffle(spec).flat()],
      ['status:', ...shuffle(status).flat()],
    ];
    return `${r() < 0.5 ? '\n' : ''}${shuffle(top)
      .map((lines) => lines.join('\n'))
      .join('\n')}\n`;
  };
}

test('generated Pods in the common shape are all taken and read exactly as the general path reads them', () => {
  const pod = generator(1);
  for (let i = 0; i < 3000; i++) {
    const doc = pod();
    // The first two sightings scan the text; from the second on, its layout is known and the
    // third is read from that (fast-pod.ts's shapes): each way must give the same.
    for (let k = 0; k < 3; k++) taken(doc);
  }
});

test('known layouts read in turn give each its own values and structure (nothing left over from the one before)', () => {
  const pod = generator(4);
  for (let round = 0; round < 20; round++) {
    const docs = Array.from({ length: 6 }, () => pod()); // fewer than the layouts kept
    for (const doc of docs) {
      taken(doc);
      taken(doc);
    }
    for (let k = 0; k < 3; k++) for (const doc of docs) taken(doc);
  }
});

test('any one-character edit of a generated Pod is declined or read exactly as the general path reads it', () => {
  const pod = generator(2);
  const r = rng(3);
  const alphabet = ' \n:-{}[],#\'"&*!|>%@`?.0123456789aeflnrstuTFx~_/\\';
  let took = 0;
  let edits = 0;
  for (let i = 0; i < 300; i++) {
    const doc = pod();
    // Its layout learnt first: an edit that keeps it (most edits of a value) is read through
    // the learnt layout, with the edited value checked again; the rest are scanned.
    taken(doc);
    taken(doc);
    for (let e = 0; e < 40; e++) {
      const at = Math.floor(r() * doc.length);
      const c = alphabet[Math.floor(r() * alphabet.length)];
      const kind = r();
      const edited = kind < 0.4 ? doc.slice(0, at) + c + doc.slice(at + 1) : kind < 0.7 ? doc.slice(0, at) + c + doc.slice(at) : doc.slice(0, at) + doc.slice(at + 1);
      edits++;
      if (agrees(edited)) took++;
    }
  }
  // Many edits keep a valid Pod (a changed name, port or label): those must still be taken.
  assert.ok(took > edits / 10, `only ${took} of ${edits} edited documents taken`);
});

test('a learnt layout checks each new value as the scan would: taken or declined exactly as the general path', () => {
  const ports = (v: string) => edit('    ports:', `    ports: [{name: http, containerPort: 80, protocol: ${v}}]`);
  const port = (v: string) => edit('    ports:', `    ports: [{name: http, containerPort: ${v}}]`);
  const ip = (v: string) => edit('  podIP:', `  podIP: ${v}`);
  const layouts: [string, string[], string[]][] = [
    // [learnt from, taken after it, declined after it]
    [ports('"UDP"'), [ports('""'), ports('"SCTP"'), ports('"TCP"')], [ports('"tcp"'), ports('"x"')]],
    [port('80'), [port('1'), port('65535')], [port('0'), port('65536'), port('70000'), port('1.5'), port('0x1F'), port('010')]],
    [ip('10.0.0.1'), [ip('10.0.0.2'), ip('fd00::1'), ip('2001:db8::5')], [ip('10.0.0.256'), ip('10.0.0'), ip('fd00::'), ip('true'), ip('12')]],
    [edit('apiVersion:', 'apiVersion: v1'), [], [edit('apiVersion:', 'apiVersion: v2'), edit('apiVersion:', 'apiVersion: v1beta1')]],
    [edit('kind:', 'kind: Pod'), [], [edit('kind:', 'kind: Pods')]],
    [edit('  name:', '  name: "pod-1"'), [], [edit('  name:', '  name: ""')]],
    [
      edit('  nodeName:', '  nodeName: n\n  terminationGracePeriodSeconds: 5'),
      [edit('  nodeName:', '  nodeName: n\n  terminationGracePeriodSeconds: 2147483')],
      [edit('  nodeName:', '  nodeName: n\n  terminationGracePeriodSeconds: 2147484')],
    ],
  ];
  for (const [learnt, ok, bad] of layouts) {
    taken(learnt);
    taken(learnt);
    for (const doc of ok) taken(doc);
    for (const doc of bad) assert.equal(fastPod(doc), null, doc);
    for (const doc of bad) declinedOrEqual(doc);
  }
});

// ---- hand-picked documents ----------------------------------------------------------------

/** The folder Pod with one line replaced (by its text up to the colon) or added. */
function edit(line: string, replacement: string): string {
  const doc = folderPod(1);
  const at = doc.indexOf(`\n${line}`);
  assert.ok(at >= 0, line);
  const end = doc.indexOf('\n', at + 1);
  return `${doc.slice(0, at + 1)}${replacement}${doc.slice(end)}`;
}

test('tricky values, keys and layouts are declined or read exactly as the general path reads them', () => {
  const label = (v: string) => edit('  labels:', `  labels: {app: ${v}, tier: backend}`);
  const blockLabel = (v: string) => edit('  labels:', `  labels:\n    app: ${v}`);
  const tricky = [
    ...[
      'true',
      'True',
      'false',
      'null',
      'Null',
      '~',
      '"on"',
      'on',
      'yes',
      '0x1F',
      '1e3',
      '010',
      '0o17',
      '1_000',
      '1.5',
      '.inf',
      '-.inf',
      '.nan',
      '+12',
      '-3',
      '12',
      '0',
      "'a'",
      '"a\\"b"',
      '"a\\nb"',
      "'a''b'",
      'a #c',
      'a#c',
      '"a" #c',
      'a b',
      '2024-01-01',
      '2001-12-14t21:59:43.10-05:00',
      '12:30',
      '1:2:3',
      'a:b',
      '&x a',
      '*x',
      '!!str a',
      '|',
      '>',
      '@a',
      '`a',
      '%a',
      '?a',
      '-a',
      '- a',
      '""',
      "''",
      '"a,b"',
      "'a]b'",
      '[a]',
      '{a: b}',
      'v1.2.3',
      '1.2.3',
      'a.',
      'a-',
      'A_B',
      ...['1-2', '1e-3', '1E-3-4', '1e3-4', '0x1F-2', '12e5', '1_000-1', '1n-a7-g7q', '12ab', '12o', '12x', '0b101', '2b989da6-aeb5-ed89-2638-d2eee9e64151', '1e2e3-x'],
    ].flatMap((v) => [label(v), blockLabel(v)]),
    edit('  podIP:', '  podIP: 10.0.0.1 # c'),
    edit('  podIP:', '  podIP: 10.0.0.256'),
    edit('  podIP:', '  podIP: 10.0.0'),
    edit('  podIP:', '  podIP: ::1'),
    edit('  podIP:', '  podIP: "::1"'),
    edit('  podIP:', '  podIP: fd00::'),
    edit('  podIP:', '  podIP: 010.0.0.1'),
    edit('  podIP:', '  podIP: 10.0.0.1\n  podIP: 10.0.0.2'),
    edit('  podIP:', '  podIP: 10.0.0.1\n  podIPs: []'),
    edit('  podIP:', '  podIP: 10.0.0.1\n  podIPs: [{ip: ""}]'),
    edit('  podIP:', '  podIP: 10.0.0.1\n  podIPs: [{}]'),
    edit('  podIP:', '  podIP: 10.0.0.1\n  podIPs: [{ip: 10.0.0.2}, {ip: 10.0.0.2}]'),
    edit('  podIP:', '  podIP: 10.0.0.1\n  podIPs: [a]'),
    edit('  podIP:', '  podIP:'),
    edit('  podIP:', '  podIP: null'),
    edit('  podIP:', '  podIP: ""'),
    edit('  podIP:', '  podIP: [10.0.0.1]'),
    edit('  name:', '  name: pod-1\n  name: pod-2'),
    edit('  name:', '  namex: pod-1'),
    edit('  name:', '  name: ""'),
    edit('  name:', '  name:'),
    edit('  name:', '  generateName: pod-'),
    edit('  namespace:', '  namespace: ""'),
    edit('  namespace:', "  namespace: ''"),
    edit('  namespace:', '  namespace: default'),
    edit('  namespace:', '  namespace: 12'),
    edit('  namespace:', '  annotations: {a: b}'),
    edit('  namespace:', '  deletionTimestamp: "2024-01-01T00:00:00Z"'),
    edit('  namespace:', '  deletionGracePeriodSeconds: 5'),
    edit('    ports:', '    ports: [{name: http, containerPort: 70000}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 0}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 65535}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: "8080"}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 8080.0}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 99999999999}]'),
    edit('    ports:', '    ports: [{name: http}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80, protocol: tcp}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80, protocol: ""}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80, protocol: UDP}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80, hostPort: 80}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80, containerPort: 81}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80},]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80}'),
    edit('    ports:', '    ports: [{name: http,\n      containerPort: 80}]'),
    edit('    ports:', '    ports: []'),
    edit('    ports:', '    ports: {}'),
    edit('    ports:', '    ports: [{name: "", containerPort: 80}]'),
    edit('    ports:', '    ports:\n    - {name: a, containerPort: 1}\n    - name: b\n      containerPort: 2\n      protocol: SCTP'),
    edit('    ports:', '    ports:\n    - name: a\n       containerPort: 1'),
    edit('    ports:', '    ports:\n    - name: a\n     containerPort: 1'),
    edit('    ports:', '    ports:\n    -\n      name: a'),
    edit('  - name:', '  - name: ""'),
    edit('  - name:', '  - image: x'),
    edit('  - name:', '  - name: app\n    readinessProbe: {tcpSocket: {port: 80}}'),
    edit('  - name:', '  - name: app\n    readinessProbe: {exec: {command: [x]}}'),
    edit('  - name:', '  - name: app\n    image: 12'),
    edit('  nodeName:', '  nodeName: bench-node\n  containerz: []'),
    edit('  nodeName:', '  nodeName: bench-node\n  terminationGracePeriodSeconds: 2147484'),
    edit('  nodeName:', '  nodeName: bench-node\n  terminationGracePeriodSeconds: 2147483'),
    edit('  nodeName:', '  nodeName: bench-node\n  terminationGracePeriodSeconds: -1'),
    edit('  nodeName:', '  nodeName: bench-node\n  hostname: h\n  subdomain: s'),
    edit('  nodeName:', '  nodeName:\n    bench-node'),
    edit('  nodeName:', '  nodeName: bench-node\n\tx: y'),
    edit('  nodeName:', '  "nodeName": bench-node'),
    edit('  nodeName:', '  ? nodeName\n  : bench-node'),
    edit('  nodeName:', '  nodeName: &n bench-node'),
    edit('  nodeName:', '  nodeName: !!str bench-node'),
    edit('  nodeName:', '  nodeName: |\n    bench-node'),
    edit('  nodeName:', '  nodeName: bench\n    node'),
    edit('  nodeName:', '  nodeName: "bench\n    node"'),
    edit('  nodeName:', '  nodeName: bench-node\n  __proto__: {}'),
    edit('  nodeName:', '  nodeName: bench-node\n  nodeName: other'),
    edit('apiVersion:', 'apiVersion: v2'),
    edit('apiVersion:', 'apiVersion: "v1"'),
    edit('apiVersion:', 'apiVersion: v1 '),
    edit('apiVersion:', ''),
    edit('kind:', 'kind: Pods'),
    edit('kind:', 'kind: pod'),
    edit('kind:', 'kind: Pod # a comment'),
    edit('kind:', 'kind: Pod\nkind: Pod'),
    edit('status:', 'status:\n  phase: Running\n  conditions: [{type: Ready, status: "True"}, {type: Ready}]'),
    edit('status:', 'status:\n  conditions: [{type: Ready, status: True}]'),
    edit('status:', 'status:\n  conditions: [{type: Ready, status: "True", reason: x}]'),
    edit('status:', 'status:\n  conditions: [Ready]'),
    edit('status:', 'status:\n  phase: Running\n  qosClass: BestEffort'),
    edit('status:', 'status: {}'),
    '\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n',
    'apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {app: b}}\nspec: {containers: [{name: c, ports: [{containerPort: 80}]}]}\n',
    '{apiVersion: v1, kind: Pod, metadata: {name: a}}\n',
    ' apiVersion: v1\n kind: Pod\n metadata: {name: a}\n',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    123: x\n',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    a: x\n    a: y\n',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {a: x, a: y}\n',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {true: x}\n',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {__proto__: x}\n',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n',
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n...\n',
    'kind: Pod\napiVersion: v1\nmetadata:\n  name: a\nstatus:\n  podIP: 10.0.0.1\n  podIPs:\n  - ip: 10.0.0.1\n  - ip: fd00::1\n',
  ];
  let took = 0;
  for (const doc of tricky) if (agrees(doc)) took++;
  assert.ok(took > 20, `only ${took} of ${tricky.length} taken: the edits that keep a valid Pod should be`);
  // The ones the brief names, declined (a wrong type, a bad value, an unknown field, ...).
  for (const doc of [
    label('true'),
    label('0x1F'),
    label('1e3'),
    label('010'),
    edit('  podIP:', '  podIP: 10.0.0.1 # c'),
    edit('  podIP:', '  podIP: 10.0.0.256'),
    edit('    ports:', '    ports: [{name: http, containerPort: 70000}]'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80, protocol: tcp}]'),
    edit('  nodeName:', '  nodeName: bench-node\n  containerz: []'),
    edit('apiVersion:', 'apiVersion: v2'),
    edit('  name:', '  name:'),
  ]) {
    assert.equal(fastPod(doc), null, doc);
  }
  // And some taken, so that the list above cannot pass by declining everything.
  for (const doc of [
    label('"on"'),
    label("'a'"),
    label('v1.2.3'),
    label('1.2.3'),
    label('2b989da6-aeb5-ed89-2638-d2eee9e64151'),
    label('1n-a7-g7q'),
    label('2024-01-01'),
    edit('    ports:', '    ports: [{name: http, containerPort: 80, protocol: UDP}]'),
    edit('  namespace:', '  namespace: ""'),
  ])
    taken(doc);
  declinedOrEqual(folderPod(1));
});

// ---- the repository's own manifests ---------------------------------------------------------

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

test('every Pod document of examples/ and the test fixtures is declined or read exactly as the general path reads it', () => {
  let pods = 0;
  for (const file of [...yamlFiles(join(root, 'examples')), ...yamlFiles(join(root, 'test/fixtures'))]) {
    const text = readFileSync(file, 'utf8');
    if (!fastPathEligible(text, false)) continue;
    for (const doc of text.split(/^---(?=[ \t\r]|$)/m)) {
      if (!/^kind: Pod/m.test(doc)) continue;
      pods++;
      declinedOrEqual(doc);
    }
  }
  assert.ok(pods > 0, 'no Pod documents found in examples/');
});
