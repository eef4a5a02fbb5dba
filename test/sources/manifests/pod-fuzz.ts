// The pieces of fast-pod-fuzz.test.ts that do not depend on the scanner under test: a seeded
// generator of Pod documents, mostly in the common shape with small textual mutations, and
// the oracle, which is the general path the folder load takes for one document (read.ts
// parseManifestText → catalog.ts objectId → cluster.ts refuse/setPod).
import yaml from 'js-yaml';
import type { KubeObject } from '../../../src/api/types.js';
import { objectId } from '../../../src/sources/manifests/catalog.js';
import { FALLBACK, fastPathEligible, parseCommonYAML } from '../../../src/sources/manifests/fast-yaml.js';
import { checkExpansion, expandedNodeBudget } from '../../../src/sources/manifests/limits.js';
import { kindProblem, strictProblems } from '../../../src/sources/manifests/strict.js';
import { validatePod, type Pod } from '../../../src/sources/pods/pod.js';
import { fingerprintOf } from '../../../src/util/fingerprint.js';

// ---- the oracle ---------------------------------------------------------------------------

export interface Accepted {
  id: string;
  pod: Pod;
  digest: number;
}

/** js-yaml's own reading, without the fast YAML path. */
export function libraryValue(doc: string): { value?: unknown; error?: string } {
  try {
    return { value: yaml.load(doc, { schema: yaml.CORE_SCHEMA, json: true }) };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

/** What the general path makes of one document: the Pod it applies without a report, or why not. */
export type Verdict = { ok: true; value: Accepted; object: KubeObject } | { ok: false; why: string };

/** The document's value as read.ts reads it: the fast YAML path, else js-yaml's core schema. */
export function generalParse(doc: string): { value: unknown } | { error: string } {
  let value: unknown = fastPathEligible(doc, false) ? parseCommonYAML(doc) : FALLBACK;
  try {
    if (value === FALLBACK) value = yaml.load(doc, { schema: yaml.CORE_SCHEMA, json: true });
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
  return { value };
}

/**
 * The general path for one document of a file that passed fastPathEligible. Called after the
 * scanner under test on the same document, so that the sharing tables (pods/shared.ts) hold
 * what the scanner shared: equal label sets and container lists must be the same objects.
 */
export function oracle(doc: string): Verdict {
  const parsed = generalParse(doc);
  if ('error' in parsed) return { ok: false, why: `parse error: ${parsed.error}` };
  const value = parsed.value;
  if (value === null || value === undefined) return { ok: false, why: 'empty document' };
  const tooBig = checkExpansion(value, expandedNodeBudget(doc.length));
  if (tooBig) return { ok: false, why: tooBig };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, why: 'not a mapping' };
  const o = value as KubeObject;
  if (o.kind === 'List' || (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items))) return { ok: false, why: 'a List' };
  const id = objectId(o);
  if (o.kind !== 'Pod') return { ok: false, why: `kind ${JSON.stringify(o.kind)}` };
  const k = kindProblem(o.kind);
  if (k) return { ok: false, why: k.reason };
  const problems = strictProblems('Pod', o);
  if (problems.length > 0) return { ok: false, why: `strict: ${problems[0].field}: ${problems[0].reason}` };
  const v = validatePod(o);
  if (!v.ok) return { ok: false, why: `validatePod: ${v.error.field}: ${v.error.reason}` };
  const exec = v.pod.containers.findIndex((c) => c.readinessProbe?.handler.type === 'exec');
  if (exec >= 0) return { ok: false, why: `exec readiness probe in container ${exec}` };
  return { ok: true, value: { id, pod: v.pod, digest: fingerprintOf(o) }, object: o };
}

/**
 * The first difference between two values, as a path and what differs, or null: same types,
 * same own keys in the same order, same frozen-ness at every level, same primitives (Object.is).
 */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (typeof a !== typeof b) return `${path || '(root)'}: ${describe(a)} vs ${describe(b)}`;
  if (a === null || b === null || typeof a !== 'object') {
    return Object.is(a, b) ? null : `${path || '(root)'}: ${describe(a)} vs ${describe(b)}`;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  if (Array.isArray(x) !== Array.isArray(y)) return `${path}: array vs not`;
  if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${path}: different prototypes`;
  if (Object.isFrozen(x) !== Object.isFrozen(y)) return `${path || '(root)'}: frozen ${Object.isFrozen(x)} vs ${Object.isFrozen(y)}`;
  const kx = Object.keys(x);
  const ky = Object.keys(y);
  if (kx.join('\u0000') !== ky.join('\u0000')) return `${path || '(root)'}: keys [${kx.join(',')}] vs [${ky.join(',')}]`;
  for (const k of kx) {
    const d = firstDifference(x[k], y[k], Array.isArray(x) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
    if (d) return d;
  }
  return null;
}

function describe(v: unknown): string {
  return v === undefined ? 'undefined' : typeof v === 'object' && v !== null ? (Array.isArray(v) ? 'an array' : 'an object') : `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * What is wrong with a scanner's answer for a document, or null when it is right: null is
 * always allowed (a decline); anything else must be what the oracle gives, down to the
 * shared objects (pods/shared.ts) being the very same ones. Call the scanner first.
 */
export function judge(doc: string, got: Accepted | null): string | null {
  if (got === null) return null;
  const want = oracle(doc);
  if (!want.ok) return `accepted, but the general path does not: ${want.why}`;
  const w = want.value;
  if (got.id !== w.id) return `id ${JSON.stringify(got.id)} vs ${JSON.stringify(w.id)}`;
  const d = firstDifference(got.pod, w.pod, 'pod');
  if (d) return d;
  if (got.digest !== w.digest) return `digest ${got.digest} vs ${w.digest} (the general path's value: ${JSON.stringify(want.object)})`;
  // Not fastPod's doing, but it would make both wrong: fast-yaml.ts against js-yaml itself.
  const lib = libraryValue(doc);
  if (lib.error !== undefined || fingerprintOf(lib.value) !== w.digest) return `fast-yaml.ts and js-yaml differ: ${lib.error ?? JSON.stringify(lib.value)}`;
  if (got.pod.labels !== w.pod.labels) return 'pod.labels: not the shared label set (sharedLabels) the general path gives';
  const probes = w.pod.containers.some((c) => c.readinessProbe);
  if (!probes && got.pod.containers !== w.pod.containers) return 'pod.containers: not the shared list (sharedContainers) the general path gives';
  return null;
}

// ---- the generator ------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so that a failing case is found again from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Dice {
  constructor(readonly r: () => number) {}
  chance(p: number): boolean {
    return this.r() < p;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.r() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }
}

/** A document as a tree of written tokens: scalars hold their text exactly as it will be written. */
type Node = Scalar | MapNode | SeqNode;
interface Scalar {
  t: 's';
  text: string;
}
interface MapNode {
  t: 'm';
  entries: [string, Node][];
  flow: boolean;
}
interface SeqNode {
  t: 'q';
  items: Node[];
  flow: boolean;
}

const s = (text: string): Scalar => ({ t: 's', text });
const m = (entries: [string, Node][], flow = false): MapNode => ({ t: 'm', entries, flow });
const q = (items: Node[], flow = false): SeqNode => ({ t: 'q', items, flow });

/** Scalars that YAML may read as something else than the string they look like, or that are odd. */
export const ODD_SCALARS: readonly string[] = [
  'true',
  'True',
  'TRUE',
  'false',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'null',
  'Null',
  '~',
  'NULL',
  '1e3',
  '1E3',
  '0x10',
  '0X10',
  '0o7',
  '0O7',
  '0b1',
  '010',
  '08',
  '1_000',
  '.5',
  '5.',
  '-0',
  '+1',
  '-1',
  '+0',
  '0',
  '12:30',
  '12:30:45',
  '2024-01-01',
  '2024-01-01T00:00:00Z',
  '.inf',
  '-.inf',
  '+.inf',
  '.NaN',
  '.nan',
  '.Inf',
  '1.0',
  '1.5e-3',
  '123456789012345678',
  '9007199254740993',
  '65536',
  '65535',
  '70000',
  '1',
  '0.0.0.0',
  '...',
  '---',
  '- x',
  '-',
  '--x',
  '-x',
  'x-',
  '_',
  '.',
  '..',
  'a#b',
  'a #b',
  'a: b',
  'a:b',
  'a:',
  ':a',
  '?x',
  '? x',
  "'x'",
  '"x"',
  "'it''s'",
  '"a\\"b"',
  '"a\\\\b"',
  '"\\x41"',
  '"\\u0041"',
  '""',
  "''",
  '" "',
  "'  '",
  '"x" y',
  "'x' y",
  '[x]',
  '{x}',
  '[]',
  '{}',
  '[x, y]',
  '{a: b}',
  '&a x',
  '*a',
  '!!str x',
  '!x y',
  '|',
  '>',
  '%x',
  '@x',
  '`x`',
  'x,y',
  'x]',
  'x}',
  'x{',
  'x[',
  '"',
  "'",
  'x"',
  "x'",
  'TCP',
  'tcp',
  'UDP',
  'SCTP',
  'Tcp',
  'True ',
  ' x',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
];

const IPV4 = (d: Dice) => `${d.int(1, 223)}.${d.int(0, 255)}.${d.int(0, 255)}.${d.int(0, 255)}`;
const IPV6 = (d: Dice) =>
  d.pick([
    () => `fd00::${d.int(1, 0xffff).toString(16)}`,
    () => `2001:db8::${d.int(0, 0xffff).toString(16)}:${d.int(0, 0xffff).toString(16)}`,
    () => `FD00::${d.int(1, 0xffff).toString(16).toUpperCase()}`,
    () => `2001:0db8:0000:0000:0000:0000:0000:${d.int(1, 9).toString(16).padStart(4, '0')}`,
    () => `::ffff:${IPV4(d)}`,
    () => '::1',
    () => '::',
    () => `fe80::1%eth0`,
  ])();
const ODD_IP = (d: Dice) =>
  d.pick([
    '010.1.1.1',
    '10.0.0.256',
    '1.2.3',
    '10.0.0.02',
    '0.0.0.0',
    '255.255.255.255',
    '10.0.0.1/24',
    '1.2.3.4.5',
    'fd00:::1',
    '10.1.2.3 ',
    'localhost',
    '0x0a.0.0.1',
    '10.0.0.01',
    '001.002.003.004',
  ]);

function ip(d: Dice): string {
  const r = d.r();
  return r < 0.75 ? IPV4(d) : r < 0.93 ? IPV6(d) : ODD_IP(d);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';
function dnsName(d: Dice, max = 20): string {
  const n = d.int(1, max);
  let out = d.chance(0.8) ? d.pick(['a', 'k', 'x', 'z']) : '';
  for (let i = 0; i < n; i++) out += LETTERS[d.int(0, LETTERS.length - 1)];
  return out;
}

/** A UUID as the API server writes uids: most start with a letter here (see the report on digits). */
function uuid(d: Dice): string {
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[d.int(0, 15)]).join('');
  return `${d.r() < 0.8 ? d.pick(['a', 'b', 'c', 'd', 'e', 'f']) : d.int(0, 9)}${hex(7)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
}

function podName(d: Dice, i: number): string {
  const r = d.r();
  if (r < 0.6) return `pod-${i}`;
  if (r < 0.75) return `${dnsName(d, 8)}-${dnsName(d, 5)}-${dnsName(d, 5)}`;
  if (r < 0.8) return 'a'.repeat(d.pick([63, 64, 253, 254, 300]));
  if (r < 0.85) return d.pick(['a.b-c', 'x_y', 'A', 'pod.1', 'web-0', 'x--y', 'name-with-dash-', 'p/q', 'a.b.c.d']);
  return d.pick(ODD_SCALARS);
}

const LABEL_KEYS = ['app', 'tier', 'app.kubernetes.io/name', 'example.com/team', 'version', 'k8s-app', 'role', 'a', 'x_y', 'A.B'];
const LABEL_VALUES = ['app-0', 'backend', 'frontend', 'web', 'v1', 'db', 'a', 'x.y', 'x_y', 'X'];

function labels(d: Dice, i: number): MapNode {
  // Now and then very many (documents near a scanner's token limit).
  const n = d.chance(0.02) ? d.int(20, 400) : d.int(0, 4);
  const keys = n > LABEL_KEYS.length ? Array.from({ length: n }, (_, j) => `k${j}.example.com/l-${j}`) : d.shuffle([...LABEL_KEYS]).slice(0, n);
  if (n >= 1 && d.chance(0.6)) keys[0] = 'app';
  const entries: [string, Node][] = keys.map((k) => [k, s(k === 'app' ? `app-${i % 7}` : d.pick(LABEL_VALUES))]);
  return m(entries, d.chance(0.6));
}

function port(d: Dice): MapNode {
  const entries: [string, Node][] = [];
  if (d.chance(0.85)) entries.push(['name', s(d.pick(['http', 'https', 'metrics', 'grpc', 'dns', 'p', 'web-ui']))]);
  entries.push(['containerPort', s(String(d.pick([80, 443, 8080, 9090, 53, 1, 65535, d.int(1, 65535)])))]);
  if (d.chance(0.3)) entries.push(['protocol', s(d.pick(['TCP', 'UDP', 'SCTP']))]);
  if (d.chance(0.05)) entries.push(['hostPort', s(String(d.int(1, 65535)))]);
  return m(d.chance(0.2) ? d.shuffle(entries) : entries, d.chance(0.5));
}

function probe(d: Dice): MapNode {
  const kind = d.pick(['httpGet', 'tcpSocket', 'grpc', 'exec']);
  const handler =
    kind === 'httpGet'
      ? m(
          [
            ['path', s('/healthz')],
            ['port', s(d.pick(['http', '8080']))],
          ],
          d.chance(0.5),
        )
      : kind === 'tcpSocket'
        ? m([['port', s('8080')]], d.chance(0.5))
        : kind === 'grpc'
          ? m([['port', s('9090')]], true)
          : m([['command', q([s('true')], true)]], d.chance(0.5));
  const entries: [string, Node][] = [[kind, handler]];
  if (d.chance(0.5)) entries.push(['periodSeconds', s(String(d.int(1, 10)))]);
  return m(entries, d.chance(0.3));
}

function container(d: Dice, i: number): MapNode {
  const entries: [string, Node][] = [];
  if (d.chance(0.95)) entries.push(['name', s(d.pick(['app', 'sidecar', 'main', `c${i}`, 'web']))]);
  if (d.chance(0.15)) entries.push(['image', s(d.pick(['nginx', 'nginx:1.25', '"registry.example/app:1.2.3"', 'busybox']))]);
  const n = d.r() < 0.1 ? 0 : d.int(1, 3);
  if (n > 0 || d.chance(0.3)) {
    const ports: Node[] = [];
    for (let j = 0; j < n; j++) ports.push(port(d));
    entries.push(['ports', q(ports, d.chance(0.6))]);
  }
  if (d.chance(0.06)) entries.push(['readinessProbe', probe(d)]);
  return m(d.chance(0.15) ? d.shuffle(entries) : entries, d.chance(0.03));
}

/** A Pod in the common shape, with the usual optional fields sometimes present. */
function pod(d: Dice, i: number): MapNode {
  const meta: [string, Node][] = [['name', s(podName(d, i))]];
  if (d.chance(0.85)) meta.push(['namespace', s(d.pick(['bench', 'default', 'kube-system', 'ns-1', 'prod']))]);
  if (d.chance(0.8)) meta.push(['labels', labels(d, i)]);
  if (d.chance(0.2)) meta.push(['uid', s(d.r() < 0.8 ? uuid(d) : d.pick([`${dnsName(d, 8)}-${dnsName(d, 4)}-${dnsName(d, 4)}`, 'abc', '1234-5678']))]);
  const spec: [string, Node][] = [];
  if (d.chance(0.85)) spec.push(['nodeName', s(d.pick(['bench-node', 'node-1', 'worker.example.com', 'n']))]);
  const containers: Node[] = [];
  const nc = d.r() < 0.05 ? 0 : d.r() < 0.8 ? 1 : d.chance(0.05) ? d.int(10, 120) : d.int(2, 3);
  for (let c = 0; c < nc; c++) containers.push(container(d, c));
  if (nc > 0 || d.chance(0.5)) spec.push(['containers', q(containers, d.chance(0.03))]);
  if (d.chance(0.1)) spec.push(['hostname', s(dnsName(d, 10))]);
  if (d.chance(0.1)) spec.push(['subdomain', s(d.pick(['svc', 'headless', 'a-b']))]);
  if (d.chance(0.15)) spec.push(['terminationGracePeriodSeconds', s(String(d.pick([0, 1, 30, 60, 2147483])))]);
  const status: [string, Node][] = [];
  if (d.chance(0.9)) status.push(['podIP', s(ip(d))]);
  if (d.chance(0.15)) {
    const ips: Node[] = [m([['ip', s(ip(d))]], d.chance(0.5))];
    if (d.chance(0.6)) ips.push(m([['ip', s(ip(d))]], d.chance(0.5)));
    status.push(['podIPs', q(ips, d.chance(0.4))]);
  }
  if (d.chance(0.1)) status.push(['hostIP', s(ip(d))]);
  if (d.chance(0.3)) status.push(['phase', s(d.pick(['Running', 'Pending', 'Succeeded', 'Failed', 'Unknown']))]);
  if (d.chance(0.2)) {
    const conds: Node[] = [
      m(
        [
          ['type', s('Ready')],
          ['status', s(d.pick(['"True"', '"False"', "'True'", 'Unknown']))],
        ],
        d.chance(0.4),
      ),
    ];
    if (d.chance(0.3))
      conds.unshift(
        m(
          [
            ['type', s('PodScheduled')],
            ['status', s('"True"')],
          ],
          d.chance(0.4),
        ),
      );
    status.push(['conditions', q(conds, d.chance(0.2))]);
  }
  const top: [string, Node][] = [
    ['apiVersion', s('v1')],
    ['kind', s('Pod')],
    ['metadata', m(d.chance(0.1) ? d.shuffle(meta) : meta, d.chance(0.15))],
    ['spec', m(d.chance(0.1) ? d.shuffle(spec) : spec, d.chance(0.02))],
  ];
  if (status.length > 0 || d.chance(0.3)) top.push(['status', m(status, d.chance(0.1))]);
  return m(d.chance(0.1) ? d.shuffle(top) : top);
}

// ---- mutations of the tree ----------------------------------------------------------------

function scalarsOf(n: Node, out: { owner: Node[] | [string, Node]; at: number }[] = []): typeof out {
  if (n.t === 'm') {
    for (const e of n.entries) {
      if (e[1].t === 's') out.push({ owner: e, at: 1 });
      else scalarsOf(e[1], out);
    }
  } else if (n.t === 'q') {
    n.items.forEach((x, i) => (x.t === 's' ? out.push({ owner: n.items, at: i }) : scalarsOf(x, out)));
  }
  return out;
}

function mapsOf(n: Node, out: MapNode[] = []): MapNode[] {
  if (n.t === 'm') {
    out.push(n);
    for (const [, v] of n.entries) mapsOf(v, out);
  } else if (n.t === 'q') for (const x of n.items) mapsOf(x, out);
  return out;
}

function seqsOf(n: Node, out: SeqNode[] = []): SeqNode[] {
  if (n.t === 'q') {
    out.push(n);
    for (const x of n.items) seqsOf(x, out);
  } else if (n.t === 'm') for (const [, v] of n.entries) seqsOf(v, out);
  return out;
}

/**
 * Scalars here and there written quoted (the same string: a scanner must not take a quoted
 * "8080" for a number, nor miss that a quoted "true" is a string), or replaced by an odd one,
 * quoted or not.
 */
function requoteSome(d: Dice, root: MapNode): void {
  for (const sc of scalarsOf(root)) {
    const slot = sc.owner as Node[];
    const text = (slot[sc.at] as Scalar).text;
    const r = d.r();
    if (r < 0.08 && !/^["']/.test(text)) slot[sc.at] = s(d.chance(0.5) ? `'${text}'` : `"${text}"`);
    else if (r < 0.095) slot[sc.at] = s(`${d.pick(['"', "'"])}${d.pick(ODD_SCALARS.filter((x) => !/["'\\]/.test(x)))}${d.pick(['"', "'"])}`.replace(/^(.)(.*).$/, '$1$2$1'));
    else if (r < 0.1) slot[sc.at] = s(d.pick(ODD_SCALARS));
  }
}

/** Quoted forms of a plain text that mean the same string (or, for odd texts, something close). */
function requote(d: Dice, text: string): string {
  if (text.startsWith('"') || text.startsWith("'")) return d.chance(0.5) ? text.slice(1, -1) : text;
  return d.pick([`'${text}'`, `"${text}"`, `'${text.replace(/'/g, "''")}'`, `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`, `" ${text}"`, `"${text} "`]);
}

const UNKNOWN_KEYS = [
  'foo',
  'containerz',
  'labelz',
  'nodename',
  'podIp',
  'annotations',
  'finalizers',
  'restartPolicy',
  'image',
  'hostNetwork',
  'x-y',
  'Name',
  'spec',
  'status',
  'metadata',
  'kind',
  'ports',
  'ip',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
  'resourceVersion',
  'priority',
  'hostIP',
  'qosClass',
  '"quoted"',
  "'sq'",
  'a.b',
  '__proto__',
  'constructor',
];

const MUTATIONS: ((d: Dice, root: MapNode) => void)[] = [
  // A scalar becomes one YAML may type differently, or an odd one.
  (d, root) => {
    const sc = d.pick(scalarsOf(root));
    (sc.owner as Node[])[sc.at] = s(d.pick(ODD_SCALARS));
  },
  // A scalar is quoted (or unquoted).
  (d, root) => {
    const sc = d.pick(scalarsOf(root));
    const old = (sc.owner as Node[])[sc.at] as Scalar;
    (sc.owner as Node[])[sc.at] = s(requote(d, old.text));
  },
  // A scalar gets a suffix or prefix that may or may not change it.
  (d, root) => {
    const sc = d.pick(scalarsOf(root));
    const old = (sc.owner as Node[])[sc.at] as Scalar;
    const affix = d.pick([' #c', '#c', '  # comment: x', ' ', '  ', ' x', ':', ': x', ',', '\\', '...', '-', '%', '!', '&', '*', ' *a', ' &a']);
    (sc.owner as Node[])[sc.at] = s(d.chance(0.8) ? old.text + affix : affix.trimStart() + old.text);
  },
  // An unknown or unusual field at some level.
  (d, root) => {
    const mp = d.pick(mapsOf(root));
    const v = d.chance(0.7) ? s(d.pick(['bar', '1', 'true', '{}', '[]', 'x'])) : d.pick([m([['a', s('b')]], d.chance(0.5)), q([s('a')], d.chance(0.5))]);
    mp.entries.splice(d.int(0, mp.entries.length), 0, [d.pick(UNKNOWN_KEYS), v]);
  },
  // A duplicate key, same or different value.
  (d, root) => {
    const mp = d.pick(mapsOf(root).filter((x) => x.entries.length > 0));
    if (!mp) return;
    const e = d.pick(mp.entries);
    const v: Node = e[1].t === 's' && d.chance(0.6) ? s(d.chance(0.5) ? e[1].text : `${e[1].text}x`) : e[1];
    mp.entries.splice(d.int(0, mp.entries.length), 0, [e[0], v]);
  },
  // An entry disappears.
  (d, root) => {
    const mp = d.pick(mapsOf(root).filter((x) => x.entries.length > 0));
    if (mp) mp.entries.splice(d.int(0, mp.entries.length - 1), 1);
  },
  // A value of the wrong type: a map or list where a scalar belongs, or the other way.
  (d, root) => {
    const mp = d.pick(mapsOf(root).filter((x) => x.entries.length > 0));
    if (!mp) return;
    const e = d.pick(mp.entries);
    e[1] = e[1].t === 's' ? d.pick([q([e[1]], d.chance(0.5)), m([['x', e[1]]], d.chance(0.5))]) : s(d.pick(['x', '{}', '[]', '', '~', '1']));
  },
  // An empty value: null, {} or [].
  (d, root) => {
    const mp = d.pick(mapsOf(root).filter((x) => x.entries.length > 0));
    if (!mp) return;
    const e = d.pick(mp.entries);
    e[1] = d.pick([s(''), s('{}'), s('[]'), s('~'), m([], d.chance(0.5)), q([], d.chance(0.5))]);
  },
  // A list gets an odd item.
  (d, root) => {
    const sq = d.pick(seqsOf(root));
    if (sq) sq.items.splice(d.int(0, sq.items.length), 0, d.pick([s(''), s('x'), s('~'), m([], true), q([], true), m([['name', s('x')]], d.chance(0.5))]));
  },
  // Keys of one map in another order.
  (d, root) => {
    const mp = d.pick(mapsOf(root));
    d.shuffle(mp.entries);
  },
  // A key is written quoted.
  (d, root) => {
    const mp = d.pick(mapsOf(root).filter((x) => x.entries.length > 0));
    if (!mp) return;
    const e = d.pick(mp.entries);
    e[0] = d.pick([`"${e[0]}"`, `'${e[0]}'`, `${e[0]} `, `? ${e[0]}`]);
  },
  // An IP of an odd kind.
  (d, root) => {
    const status = root.entries.find((e) => e[0] === 'status')?.[1];
    if (status?.t !== 'm') return;
    status.entries.push(['podIP', s(d.pick([ODD_IP(d), IPV6(d), `" ${IPV4(d)}"`, `'${IPV4(d)} '`, `"${IPV6(d)}"`]))]);
    status.entries = status.entries.filter((e, i, all) => e[0] !== 'podIP' || i === all.length - 1);
  },
  // The kind or apiVersion changes, or the Pod is wrapped in a List.
  (d, root) => {
    const e = d.pick(root.entries.filter((x) => x[0] === 'kind' || x[0] === 'apiVersion'));
    if (e) e[1] = s(d.pick(['v2', 'v1beta1', 'V1', '"v1"', "'Pod'", 'pod', 'List', 'PodList', 'Service', '"Pod"', 'Pod ', 'Pods']));
  },
  // Flow and block switch.
  (d, root) => {
    const all: (MapNode | SeqNode)[] = [...mapsOf(root).slice(1), ...seqsOf(root)];
    const n = d.pick(all);
    if (n) n.flow = !n.flow;
  },
];

/** The document's text: block style with the given layout, flow where the tree says. */
interface Layout {
  step: number; // indentation of a nested block mapping
  seqIndent: number; // extra indentation of a block sequence under its key (0: at the key's column)
  afterDash: number; // spaces after "- "
  afterColon: number;
  flowInner: boolean; // "{ a: b }" rather than "{a: b}"
  flowComma: string;
}

function flowText(n: Node, l: Layout): string {
  if (n.t === 's') return n.text;
  const pad = l.flowInner ? ' ' : '';
  if (n.t === 'm') {
    if (n.entries.length === 0) return '{}';
    return `{${pad}${n.entries.map(([k, v]) => `${k}:${' '.repeat(l.afterColon)}${flowText(v, l)}`).join(l.flowComma)}${pad}}`;
  }
  if (n.items.length === 0) return '[]';
  return `[${pad}${n.items.map((x) => flowText(x, l)).join(l.flowComma)}${pad}]`;
}

function emitMap(n: MapNode, indent: number, l: Layout, out: string[], d: Dice, first?: string): void {
  n.entries.forEach(([k, v], i) => {
    const lead = i === 0 && first !== undefined ? first : ' '.repeat(indent);
    const key = `${lead}${k}:`;
    if (v.t === 's') out.push(v.text === '' ? key : `${key}${' '.repeat(l.afterColon)}${v.text}`);
    else if (v.flow || (v.t === 'm' ? v.entries.length === 0 : v.items.length === 0)) out.push(`${key}${' '.repeat(l.afterColon)}${flowText(v, l)}`);
    else if (v.t === 'm') {
      out.push(key);
      emitMap(v, indent + l.step, l, out, d);
    } else {
      out.push(key);
      emitSeq(v, indent + (d.chance(0.9) ? l.seqIndent : d.pick([0, 2, 4])), l, out, d);
    }
  });
}

function emitSeq(n: SeqNode, indent: number, l: Layout, out: string[], d: Dice): void {
  const dash = `${' '.repeat(indent)}-${' '.repeat(l.afterDash)}`;
  for (const x of n.items) {
    if (x.t === 's') out.push(x.text === '' ? `${' '.repeat(indent)}-` : dash + x.text);
    else if (x.flow || (x.t === 'm' ? x.entries.length === 0 : x.items.length === 0)) out.push(dash + flowText(x, l));
    else if (x.t === 'm') {
      if (d.chance(0.1)) {
        out.push(`${' '.repeat(indent)}-`);
        emitMap(x, indent + l.step, l, out, d);
      } else emitMap(x, dash.length, l, out, d, dash);
    } else {
      out.push(`${' '.repeat(indent)}-`);
      emitSeq(x, indent + l.step, l, out, d);
    }
  }
}

// ---- mutations of the text ----------------------------------------------------------------

const LINE_MUTATIONS: ((d: Dice, lines: string[]) => void)[] = [
  // A full-line comment, at any indentation.
  (d, lines) => lines.splice(d.int(0, lines.length), 0, `${' '.repeat(d.int(0, 6))}#${d.pick(['', ' c', ' key: value', '---', ' - x'])}`),
  // A blank line, maybe holding spaces.
  (d, lines) => lines.splice(d.int(0, lines.length), 0, ' '.repeat(d.pick([0, 0, 1, 2, 7]))),
  // Trailing spaces.
  (d, lines) => {
    const i = d.int(0, lines.length - 1);
    lines[i] += ' '.repeat(d.int(1, 3));
  },
  // A comment after a line's content.
  (d, lines) => {
    const i = d.int(0, lines.length - 1);
    lines[i] += d.pick([' # c', '  #c', ' #', '#c', ' # a: b']);
  },
  // A line indented one more or one less.
  (d, lines) => {
    const i = d.int(0, lines.length - 1);
    lines[i] = d.chance(0.5) ? ` ${lines[i]}` : lines[i].replace(/^ /, '');
  },
  // A line repeated.
  (d, lines) => {
    const i = d.int(0, lines.length - 1);
    lines.splice(i, 0, lines[i]);
  },
  // An indented document marker, or directive-like text.
  (d, lines) => lines.splice(d.int(1, lines.length), 0, d.pick(['  ...', '  ---', ' ...', '%YAML 1.2', '  ? x', '  : y'])),
  // A line cut in two (a continuation).
  (d, lines) => {
    const i = d.int(0, lines.length - 1);
    const at = lines[i].indexOf(', ');
    if (at > 0) lines.splice(i, 1, lines[i].slice(0, at + 1), `${' '.repeat(d.int(0, 6))}${lines[i].slice(at + 2)}`);
    else lines.splice(i + 1, 0, `${' '.repeat(d.int(4, 8))}more`);
  },
  // A line dropped.
  (d, lines) => void lines.splice(d.int(0, lines.length - 1), 1),
  // A tab, a carriage return, a non-ASCII character (the caller's eligibility check drops these).
  (d, lines) => {
    const i = d.int(0, lines.length - 1);
    lines[i] += d.pick(['\t', '\r', 'é', '\u00a0']);
  },
];

/** How the document begins, as read.ts cuts it: after a `---` the rest of the marker line comes first. */
const PREFIXES = ['', '', '', '\n', '\n', ' \n', '\n\n', ' # after the marker\n', '\n# a comment\n', '\n   \n'];
const SUFFIXES = ['\n', '\n', '\n', '', '\n\n', '\n   ', '\n# trailing comment\n', '\n  \n\n', ' '];

export interface Case {
  seed: number;
  doc: string;
}

/**
 * The document of one seed: a common-shape Pod, mutated 0-3 times in its tree and its text;
 * `plain`: not mutated, laid out as people and generators usually write (the shapes the
 * scanner exists for, which it must take).
 */
export function generate(seed: number, plain = false): Case {
  const d = new Dice(rng(seed));
  const root = pod(d, seed % 100_000);
  if (plain) return { seed, doc: plainText(d, root) };
  if (d.chance(0.5)) requoteSome(d, root);
  // A third: a plain document with one to three edits of a character or two, next to what
  // a scanner takes (where a wrong accept hides).
  if (d.chance(0.33)) {
    let doc = plainText(d, root);
    for (let i = d.int(1, 3); i > 0; i--) doc = edit(d, doc);
    return { seed, doc };
  }
  const treeMutations = d.r() < 0.45 ? 0 : d.int(1, 3);
  for (let i = 0; i < treeMutations; i++) d.pick(MUTATIONS)(d, root);
  const layout: Layout = {
    step: d.r() < 0.8 ? 2 : d.pick([1, 3, 4, 8]),
    seqIndent: d.r() < 0.6 ? 0 : d.pick([2, 4, 1]),
    afterDash: d.r() < 0.9 ? 1 : d.int(2, 4),
    afterColon: d.r() < 0.93 ? 1 : d.pick([0, 2, 3]),
    flowInner: d.chance(0.15),
    flowComma: d.r() < 0.85 ? ', ' : d.pick([',', ' , ', ',  ']),
  };
  const lines: string[] = [];
  // Rarely, the whole document as one flow mapping.
  if (d.chance(0.02)) lines.push(flowText({ ...root, flow: true }, layout));
  else emitMap(root, 0, layout, lines, d);
  const textMutations = d.r() < 0.6 ? 0 : d.int(1, 2);
  for (let i = 0; i < textMutations && lines.length > 0; i++) d.pick(LINE_MUTATIONS)(d, lines);
  const prefix = d.r() < 0.97 ? d.pick(PREFIXES) : ' ';
  return { seed, doc: prefix + lines.join('\n') + d.pick(SUFFIXES) };
}

/**
 * True when the text is a document as read.ts cuts a file and hands on (splitDocuments,
 * fastPathEligible): no column-0 `---` or `...` line, some content, no character that sends
 * the file to js-yaml whole.
 */
export function isCutDocument(doc: string): boolean {
  if (/^(---|\.\.\.)(?=[ \t\r]|$)/m.test(doc)) return false;
  if (!/^[ \t\r\n]*[^ \t\r\n#]/.test(doc.replace(/^[ \t\r]*#.*$/gm, ''))) return false;
  return fastPathEligible(doc, false);
}

/** The common shape only: no probes, images or host ports, the containers as a block list. */
function plainOnly(n: Node): void {
  if (n.t === 'm') {
    n.entries = n.entries.filter(([k]) => k !== 'readinessProbe' && k !== 'image' && k !== 'hostPort');
    for (const [k, v] of n.entries) {
      if (k === 'containers' && v.t === 'q') v.flow = false;
      plainOnly(v);
    }
  } else if (n.t === 'q') n.items.forEach(plainOnly);
}

function plainText(d: Dice, root: MapNode): string {
  plainOnly(root);
  const layout: Layout = { step: 2, seqIndent: d.pick([0, 2]), afterDash: 1, afterColon: 1, flowInner: false, flowComma: ', ' };
  const lines: string[] = [];
  emitMap(root, 0, layout, lines, new Dice(() => 0.5)); // no odd sequence indentation
  return d.pick(['', '\n']) + lines.join('\n') + '\n';
}

/** Characters that mean something to YAML, or to a scanner of it. */
const EDIT_CHARS = [
  ' ',
  ' ',
  '#',
  "'",
  '"',
  ':',
  ',',
  '{',
  '}',
  '[',
  ']',
  '-',
  '&',
  '*',
  '!',
  '|',
  '>',
  '?',
  '%',
  '@',
  '`',
  '\\',
  '.',
  '0',
  '1',
  'e',
  'x',
  'o',
  '_',
  '/',
  '+',
  '~',
  '\n',
  '\n ',
  '\n  ',
  '\n- ',
  ': ',
  ', ',
  ' #',
  '...',
  '---',
];

/** One small edit of a document's text: a character inserted, deleted or replaced, a span doubled. */
function edit(d: Dice, doc: string): string {
  const at = d.int(0, doc.length);
  switch (d.int(0, 4)) {
    case 0:
    case 1:
      return doc.slice(0, at) + d.pick(EDIT_CHARS) + doc.slice(at);
    case 2:
      return doc.slice(0, at) + doc.slice(at + d.int(1, 3));
    case 3:
      return doc.slice(0, at) + d.pick(EDIT_CHARS) + doc.slice(at + 1);
    default: {
      const n = d.int(1, 12);
      return doc.slice(0, at + n) + doc.slice(at, at + n) + doc.slice(at + n);
    }
  }
}

// ---- exhaustive neighbourhoods --------------------------------------------------------------

/**
 * Pods that the scanner should take, each field the fast path reads written once: the bases
 * of the grids below.
 */
export const BASES: readonly string[] = [
  `apiVersion: v1
kind: Pod
metadata:
  name: pod-1
  namespace: bench
  labels: {app: app-0, tier: backend}
spec:
  nodeName: bench-node
  containers:
  - name: app
    ports: [{name: http, containerPort: 8080}]
status:
  podIP: 10.0.0.1
`,
  `apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: prod
  uid: a1b2c3d4-0000-1111-2222-333344445555
  labels:
    app.kubernetes.io/name: web
    tier: db
spec:
  nodeName: node-1
  hostname: web-0
  subdomain: web
  terminationGracePeriodSeconds: 5
  containers:
    - name: main
      image: nginx:1.25
      ports:
        - name: http
          containerPort: 80
          protocol: TCP
        - {name: dns, containerPort: 53, protocol: UDP}
    - name: side
status:
  phase: Running
  hostIP: 192.168.1.1
  podIP: 10.1.2.3
  podIPs:
  - ip: 10.1.2.3
  - ip: fd00::3
  conditions:
  - type: Ready
    status: "True"
`,
];

/** Where a value goes in BASES[1]: a text that occurs once there, and the value in it. */
const SLOTS: readonly [string, string][] = [
  ['  name: web-0', 'web-0'],
  ['namespace: prod', 'prod'],
  ['uid: a1b2c3d4-0000-1111-2222-333344445555', 'a1b2c3d4-0000-1111-2222-333344445555'],
  ['app.kubernetes.io/name: web', 'app.kubernetes.io/name'], // a label key
  ['app.kubernetes.io/name: web', 'web'], // a label value
  ['nodeName: node-1', 'node-1'],
  ['hostname: web-0', 'web-0'],
  ['subdomain: web', 'web'],
  ['terminationGracePeriodSeconds: 5', '5'],
  ['name: main', 'main'],
  ['image: nginx:1.25', 'nginx:1.25'],
  ['- name: http', 'http'],
  ['containerPort: 80', '80'],
  ['protocol: TCP', 'TCP'],
  ['{name: dns', 'dns'],
  ['containerPort: 53', '53'],
  ['protocol: UDP', 'UDP'],
  ['name: side', 'side'],
  ['phase: Running', 'Running'],
  ['hostIP: 192.168.1.1', '192.168.1.1'],
  ['podIP: 10.1.2.3', '10.1.2.3'],
  ['ip: fd00::3', 'fd00::3'],
  ['type: Ready', 'Ready'],
  ['status: "True"', '"True"'],
  ['apiVersion: v1', 'v1'],
  ['kind: Pod', 'Pod'],
  ['tier: db', 'tier'],
  ['podIPs:', 'podIPs'], // keys too
  ['  containers:', 'containers'],
];

/**
 * BASES[1] with each slot's value replaced by each odd scalar, plain and quoted both ways:
 * every way YAML may type a value, in every place the scanner reads one.
 */
export function slotGrid(): string[] {
  const base = BASES[1];
  const values = new Set<string>();
  for (const v of ODD_SCALARS) {
    values.add(v);
    if (!/["'\\]/.test(v)) values.add(`'${v}'`).add(`"${v}"`);
  }
  // Digit first, with a dash: strings unless the dash is an exponent's (1e-3 is a float).
  for (const v of [
    '1-2',
    '1e-3',
    '1E-3',
    '1.5e-3',
    '1_0e-3',
    '1.e-3',
    '1e-3-x',
    '0x1-2',
    '0o1-2',
    '0b1-1',
    '1g-2',
    '1d-2',
    '9-9e',
    '1-e3',
    '12-30',
    '1.0-1',
    '6e-',
    '6e-x',
    '0-0',
    '0x-1',
    '1_-1',
    '0e-0',
    '00e-1',
    '1e-03',
    '1e-3_',
    '1ex-1',
    '1o-1',
    '1x-1',
    '2b989da6-aeb5-ed89-2638-d2eee9e64151',
    '1e100-a',
    '8e-1',
  ]) {
    values.add(v);
  }
  for (const v of ['web', 'x1', '10.0.0.9', 'fd00::9', '0', '1', '65535', '65536', '2147483647', '2147483648', '4294967296', '-1', '12345678901', 'a'.repeat(300), 'a b', 'a  b']) {
    values.add(v).add(`"${v}"`);
  }
  const out: string[] = [];
  for (const [needle, value] of SLOTS) {
    const at = base.indexOf(needle);
    if (at < 0 || base.indexOf(needle, at + 1) >= 0) throw new Error(`slot ${needle}: not once in the base`);
    const vat = at + needle.indexOf(value);
    for (const v of values) out.push(base.slice(0, vat) + v + base.slice(vat + value.length));
  }
  return out;
}

/** Every document one small edit away from base: each edit character inserted at, or put in place of, each position, and each deletion. */
export function singleEdits(base: string): string[] {
  const out: string[] = [];
  for (let at = 0; at <= base.length; at++) {
    out.push(base.slice(0, at) + base.slice(at + 1));
    for (const c of EDIT_CHARS) {
      out.push(base.slice(0, at) + c + base.slice(at));
      if (at < base.length) out.push(base.slice(0, at) + c + base.slice(at + 1));
    }
  }
  return out;
}

// ---- same layout, other values --------------------------------------------------------------

/** Values a plain scalar may hold without changing the layout around it (block context: ':' too). */
const PLAIN_VALUES = [
  'x',
  'web-1',
  'a.b',
  'a_b',
  'a/b',
  'v1',
  'Pod',
  'TCP',
  'UDP',
  'http',
  'true',
  'True',
  'TRUE',
  'false',
  'null',
  'Null',
  'NULL',
  'yes',
  'on',
  'n',
  'y',
  'e3',
  'x:y',
  'a:',
  '0',
  '1',
  '8080',
  '65535',
  '65536',
  '010',
  '1_000',
  '1e3',
  '0x10',
  '0o7',
  '1.5',
  '10.0.0.1',
  '1.2.3.4.5',
  '2001:db8::1',
  'fd00::',
  '12:30',
  '2024-01-01',
  '1-2',
  '1/2',
  '1.',
  '9.9.9',
  '2147483648',
  '99999999999',
  'inf',
  'nan',
  'NaN',
  'Infinity',
  'a'.repeat(70),
];
/** Values a quoted scalar may hold without its quote or a backslash. */
const QUOTED_VALUES = [
  '',
  ' ',
  'x',
  'a b',
  'a #b',
  'a: b',
  '{a}',
  '[x]',
  'a,b',
  '8080',
  'true',
  'null',
  '~',
  '1e3',
  '0x10',
  '010',
  ' 10.0.0.1',
  '10.0.0.1 ',
  '10.0.0.1',
  'fd00::1',
  'TCP',
  'tcp',
  'Pod',
  'v1',
  'True',
  '&a',
  '*a',
  '!x',
  '|',
  '>',
  '%',
  '@',
  '`',
  '-',
  '- x',
  '? x',
  '...',
  '---',
  '#',
];

/**
 * The document with its values replaced by others of the same kind (plain by plain, quoted by
 * quoted with the same quote): the same layout, so a scanner that remembers layouts reads it
 * from what it learnt.
 */
export function revalue(seed: number, doc: string): string {
  const d = new Dice(rng(seed));
  // Mostly a value of the same sort (a number for a number, a name for a name), else an odd one.
  const plainValue = (old: string, flow: boolean) => {
    const v = d.chance(0.3)
      ? d.pick(PLAIN_VALUES)
      : /^[0-9]+$/.test(old)
        ? String(d.int(1, 65535))
        : old.includes('.')
          ? old.replace(/[0-9]+$/, String(d.int(0, 255)))
          : `${d.pick(['a', 'z', 'Q'])}${dnsName(d, 12)}`;
    return flow ? v.replace(/:/g, '.') : v;
  };
  const quotedValue = (old: string, q: string) => (d.chance(0.4) ? d.pick(QUOTED_VALUES) : old.replace(/^[a-z]/, 'x')).replace(q === '"' ? /"/g : /'/g, '');
  const swap = () => d.chance(0.3);
  return doc
    .replace(/^([ -]*[A-Za-z_][-A-Za-z0-9_./]*: )([A-Za-z0-9][-A-Za-z0-9_./:]*)$/gm, (all, head: string, old: string) => (swap() ? head + plainValue(old, false) : all))
    .replace(/([{,] ?[A-Za-z_][-A-Za-z0-9_./]*: )([A-Za-z0-9][-A-Za-z0-9_./]*)(?=[,}\]])/g, (all, head: string, old: string) => (swap() ? head + plainValue(old, true) : all))
    .replace(/(["'])([^"'\\\n]*)\1/g, (all, q: string, old: string) => (swap() ? q + quotedValue(old, q) + q : all));
}

/** A Pod with every string value it can quote quoted: `v` replaces the value of a field. */
function quotedPod(v: Record<string, string>): string {
  const q = (k: string, d: string) => v[k] ?? d;
  return `apiVersion: "${q('api', 'v1')}"
kind: Pod
metadata:
  name: "${q('name', 'p')}"
  namespace: "${q('ns', 'bench')}"
  uid: "${q('uid', 'u')}"
  labels: {app: "${q('app', 'web')}", tier: 'x'}
spec:
  nodeName: "${q('node', 'n')}"
  hostname: "${q('host', 'h')}"
  subdomain: "${q('sub', 's')}"
  terminationGracePeriodSeconds: ${q('grace', '30')}
  containers:
  - name: "${q('cname', 'c')}"
    image: "${q('image', 'i')}"
    ports: [{name: "${q('pname', 'http')}", containerPort: ${q('port', '80')}, protocol: "${q('proto', 'TCP')}"}]
status:
  phase: "${q('phase', 'Running')}"
  hostIP: "${q('hostIP', '1.1.1.1')}"
  podIP: "${q('podIP', '10.0.0.1')}"
  podIPs: [{ip: "${q('ip1', '10.0.0.1')}"}, {ip: "${q('ip2', 'fd00::1')}"}]
  conditions: [{type: "${q('ctype', 'Ready')}", status: "${q('cstatus', 'True')}"}]
`;
}

/**
 * The quoted Pod, then each quoted value replaced by texts that change what it means (empty,
 * a space, a bad address, another protocol, ...), and the numbers by ones out of range: all
 * in the same layout, so a scanner that learnt it must check each value again.
 */
export function quotedGrid(): string[] {
  const out = [quotedPod({})];
  const texts = [
    '',
    ' ',
    'x',
    '10.0.0.300',
    ' 10.0.0.1',
    '10.0.0.1 ',
    'true',
    '0',
    'Ready',
    'ready',
    'False',
    'true',
    'UDP',
    'udp',
    'SCTP',
    'v2',
    'Pods',
    'List',
    'default',
    '::',
    '010.1.1.1',
    'a b',
    '#',
    'x: y',
    'container-0',
  ];
  const fields = ['api', 'name', 'ns', 'uid', 'app', 'node', 'host', 'sub', 'cname', 'image', 'pname', 'proto', 'phase', 'hostIP', 'podIP', 'ip1', 'ip2', 'ctype', 'cstatus'];
  for (const f of fields) for (const t of texts) out.push(quotedPod({ [f]: t }));
  for (const n of ['0', '1', '65535', '65536', '2147483647', '2147483648', '2147484']) out.push(quotedPod({ port: n }), quotedPod({ grace: n }));
  return out;
}
