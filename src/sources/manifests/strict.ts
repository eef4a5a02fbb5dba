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
  depth = 0;
  if (fields) checkObject(o as Record<string, unknown>, fields, null, out);
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

// A folder of 100,000 Pods means millions of values to check: the field path of a value is
// kept as a stack of keys (the keys of the values being checked, root first) and written out
// only when it has a problem, and each model type string ("Array<V1ContainerPort>", ...) is
// read once into its shape. The walk is synchronous, so one stack serves every check.
const pathKeys: (string | number)[] = [];
let depth = 0;

/** The path of the value being checked, with `key` below it when given. */
function pathText(key?: string | number): string {
  let s = '';
  const n = key === undefined ? depth : depth + 1;
  for (let i = 0; i < n; i++) {
    const k = i < depth ? pathKeys[i] : key!;
    s = typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k;
  }
  return s;
}

function enter(key: string | number): void {
  pathKeys[depth++] = key;
}

function leave(): void {
  pathKeys[--depth] = '';
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

function checkObject(o: Record<string, unknown>, fields: Map<string, SchemaField>, parent: Map<string, SchemaField> | null, out: FieldProblem[]): void {
  for (const key in o) {
    if (!Object.prototype.hasOwnProperty.call(o, key)) continue;
    const f = fields.get(key);
    if (!f) {
      out.push({ field: pathText(key), reason: unknownReason(key, fields, parent, pathText()) });
      continue;
    }
    checkValue(o[key], f.type, key, fields, out);
  }
}

/** Checks the value at the current path + `key`; its key goes on the path only when it has children. */
function checkValue(value: unknown, type: string, key: string | number, owner: Map<string, SchemaField>, out: FieldProblem[]): void {
  if (value === null || value === undefined) return;
  const shape = shapeOf(type);
  switch (shape.k) {
    case 'string':
      if (typeof value !== 'string') wrong(out, key, 'a string', value);
      return;
    case 'number':
      if (typeof value !== 'number') wrong(out, key, 'a number', value);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') wrong(out, key, 'true or false', value);
      return;
    case 'IntOrString':
      if (typeof value !== 'number' && typeof value !== 'string') wrong(out, key, 'a number or a string', value);
      return;
    case 'any':
    case 'unknown':
      return;
    case 'array': {
      if (!Array.isArray(value)) return void wrong(out, key, 'a list', value);
      enter(key);
      for (let i = 0; i < value.length; i++) checkValue(value[i], shape.of, i, owner, out);
      leave();
      return;
    }
    case 'map': {
      if (!isObject(value)) return void wrong(out, key, 'a mapping', value);
      enter(key);
      for (const k in value) if (Object.prototype.hasOwnProperty.call(value, k)) checkValue(value[k], shape.of, k, owner, out);
      leave();
      return;
    }
    case 'object':
      if (!isObject(value)) return void wrong(out, key, 'a mapping', value);
      enter(key);
      checkObject(value, shape.fields, owner, out);
      leave();
  }
}

/** A value of the wrong shape. A function of its own: no closure per value checked. */
function wrong(out: FieldProblem[], key: string | number, expected: string, value: unknown): void {
  out.push({ field: pathText(key), reason: `expected ${expected}, got ${describe(value)}` });
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
