// Strict field validation of a folder's objects, as the API server does it for `kubectl
// apply` (--validate=strict): every field that its type does not have is reported with its
// full path and, when a known field is close, a "did you mean"; a value of the wrong shape
// (a list where a string belongs, ...) is reported too. An object with such a problem is
// refused, as the API server would refuse it. Kinds kproxy does not read are reported:
// an unknown kind as an error (often a misspelling), a built-in one as ignored.
import type { KubeObject } from '../../api/types.js';
import { closest } from '../../util/closest.js';
import { isBuiltinKind, typeFields, type SchemaField } from './schema.js';

/** The kinds the manifests source reads, with their apiVersion and model type. */
export const KINDS_READ: Readonly<Record<string, { apiVersion: string; type: string }>> = {
  Service: { apiVersion: 'v1', type: 'V1Service' },
  Pod: { apiVersion: 'v1', type: 'V1Pod' },
  Node: { apiVersion: 'v1', type: 'V1Node' },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', type: 'V1EndpointSlice' },
  Lease: { apiVersion: 'coordination.k8s.io/v1', type: 'V1Lease' },
  // MetalLB's kinds: no model type here; the LoadBalancer code validates their fields.
  IPAddressPool: { apiVersion: 'metallb.io/v1beta1', type: '' },
  L2Advertisement: { apiVersion: 'metallb.io/v1beta1', type: '' },
};

export interface FieldProblem {
  field: string;
  reason: string;
}

/** Problems found in an object of a kind kproxy reads (empty: acceptable). */
export function strictProblems(kind: string, o: KubeObject): FieldProblem[] {
  const want = KINDS_READ[kind];
  if (!want) return [];
  const out: FieldProblem[] = [];
  if (o.apiVersion !== want.apiVersion) {
    out.push({ field: 'apiVersion', reason: `${kind} is ${want.apiVersion}, got ${JSON.stringify(o.apiVersion ?? null)}` });
  }
  const fields = typeFields(want.type);
  if (fields) checkObject(o as Record<string, unknown>, fields, null, null, out);
  return out;
}

/** One line for all of an object's problems: the first names the field, the rest follow. */
export function summarize(problems: FieldProblem[]): FieldProblem {
  const [first, ...rest] = problems;
  if (rest.length === 0) return first;
  return { field: first.field, reason: `${first.reason}; also ${rest.map((p) => `${p.field}: ${p.reason}`).join('; ')}` };
}

/** What to say about an object whose kind kproxy does not read; null for kinds it reads. */
export function kindProblem(kind: string): { error: boolean; reason: string } | null {
  if (KINDS_READ[kind]) return null;
  const read = Object.keys(KINDS_READ).join(', ');
  if (!kind) return { error: true, reason: `missing kind; kproxy reads ${read}` };
  if (isBuiltinKind(kind)) return { error: false, reason: `kproxy reads ${read}; objects of kind ${kind} are ignored` };
  const near = closest(kind, Object.keys(KINDS_READ));
  return { error: true, reason: `unknown kind ${JSON.stringify(kind)}${near ? ` (did you mean ${near}?)` : ''}; kproxy reads ${read}` };
}

// A folder of 100,000 Pods means millions of values to check: the field path of each is
// built only when it has a problem (a chain of parent links until then), and each model type
// string ("Array<V1ContainerPort>", ...) is read once into its shape.
type Path = { up: Path; key: string | number } | null;

function pathText(p: Path): string {
  const keys: (string | number)[] = [];
  for (; p; p = p.up) keys.push(p.key);
  let s = '';
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i];
    s = typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k;
  }
  return s;
}

type Shape = { k: 'string' | 'number' | 'boolean' | 'IntOrString' | 'any' | 'unknown' } | { k: 'array' | 'map'; of: string } | { k: 'object'; fields: Map<string, SchemaField> };
const shapes = new Map<string, Shape>();

function shapeOf(type: string): Shape {
  let sh = shapes.get(type);
  if (sh) return sh;
  const array = /^Array<(.+)>$/.exec(type);
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (type === 'string' || type === 'Date') sh = { k: 'string' };
  else if (type === 'number' || type === 'boolean' || type === 'IntOrString' || type === 'any') sh = { k: type };
  else if (array) sh = { k: 'array', of: array[1] };
  else if (map) sh = { k: 'map', of: map[1] };
  else {
    const fields = typeFields(type);
    sh = fields ? { k: 'object', fields } : { k: 'unknown' }; // a type this library version does not describe: not checked
  }
  shapes.set(type, sh);
  return sh;
}

function checkObject(o: Record<string, unknown>, fields: Map<string, SchemaField>, at: Path, parent: Map<string, SchemaField> | null, out: FieldProblem[]): void {
  for (const key in o) {
    if (!Object.prototype.hasOwnProperty.call(o, key)) continue;
    const f = fields.get(key);
    if (!f) {
      out.push({ field: pathText({ up: at, key }), reason: unknownReason(key, fields, parent, pathText(at)) });
      continue;
    }
    checkValue(o[key], f.type, at, key, fields, out);
  }
}

/**
 * Checks the value at `at` + `key`. The path link of a value is made only when the value has
 * a problem or children (most values are strings and numbers that are fine).
 */
function checkValue(value: unknown, type: string, at: Path, key: string | number, owner: Map<string, SchemaField>, out: FieldProblem[]): void {
  if (value === null || value === undefined) return;
  const shape = shapeOf(type);
  switch (shape.k) {
    case 'string':
      if (typeof value !== 'string') wrong(out, at, key, 'a string', value);
      return;
    case 'number':
      if (typeof value !== 'number') wrong(out, at, key, 'a number', value);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') wrong(out, at, key, 'true or false', value);
      return;
    case 'IntOrString':
      if (typeof value !== 'number' && typeof value !== 'string') wrong(out, at, key, 'a number or a string', value);
      return;
    case 'any':
    case 'unknown':
      return;
    case 'array': {
      if (!Array.isArray(value)) return void wrong(out, at, key, 'a list', value);
      const path: Path = { up: at, key };
      for (let i = 0; i < value.length; i++) checkValue(value[i], shape.of, path, i, owner, out);
      return;
    }
    case 'map': {
      if (!isObject(value)) return void wrong(out, at, key, 'a mapping', value);
      const path: Path = { up: at, key };
      for (const k in value) if (Object.prototype.hasOwnProperty.call(value, k)) checkValue(value[k], shape.of, path, k, owner, out);
      return;
    }
    case 'object':
      if (!isObject(value)) return void wrong(out, at, key, 'a mapping', value);
      checkObject(value, shape.fields, { up: at, key }, owner, out);
  }
}

/** A value of the wrong shape. A function of its own: no closure per value checked. */
function wrong(out: FieldProblem[], at: Path, key: string | number, expected: string, value: unknown): void {
  out.push({ field: pathText({ up: at, key }), reason: `expected ${expected}, got ${describe(value)}` });
}

function unknownReason(key: string, fields: Map<string, SchemaField>, parent: Map<string, SchemaField> | null, prefix: string): string {
  const near = closest(key, [...fields.keys()]);
  if (near) return `unknown field (did you mean ${prefix ? `${prefix}.` : ''}${near}?)`;
  if (parent?.has(key)) {
    const up = prefix.includes('.') ? prefix.slice(0, prefix.lastIndexOf('.')) : '';
    return `unknown field (${key} belongs ${up ? `in ${up}` : 'at the top level'}: check its indentation)`;
  }
  return 'unknown field';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isObject(v)) return 'a mapping';
  return JSON.stringify(v);
}
