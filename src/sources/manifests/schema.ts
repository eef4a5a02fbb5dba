// The field lists of Kubernetes' built-in types, as the API server's strict field validation
// knows them. They are read from @kubernetes/client-node's generated models (one small file
// per type, holding `attributeTypeMap`), synchronously and once per type, so that checking
// a folder costs no import of the client library itself.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface SchemaField {
  /** The JSON key. */
  name: string;
  /** The model's type: "string", "number", "boolean", "Date", "any", "IntOrString", "V1PodSpec", "Array<…>", "{ [key: string]: … }". */
  type: string;
}

let modelsDir: string | null | undefined;

function models(): string | null {
  if (modelsDir !== undefined) return modelsDir;
  try {
    const main = createRequire(import.meta.url).resolve('@kubernetes/client-node');
    const dir = join(dirname(main), 'gen', 'models');
    modelsDir = existsSync(dir) ? dir : null;
  } catch {
    modelsDir = null;
  }
  return modelsDir;
}

const cache = new Map<string, Map<string, SchemaField> | null>();

/** The fields of a generated model type (e.g. "V1ServiceSpec"), or null when it is unknown. */
export function typeFields(type: string): Map<string, SchemaField> | null {
  if (cache.has(type)) return cache.get(type)!;
  let fields: Map<string, SchemaField> | null = null;
  const dir = models();
  if (dir && /^[A-Za-z0-9]+$/.test(type)) {
    const file = join(dir, `${type}.js`);
    if (existsSync(file)) fields = parseModel(readFileSync(file, 'utf8'), type);
  }
  cache.set(type, fields);
  return fields;
}

function parseModel(text: string, type: string): Map<string, SchemaField> | null {
  const start = text.indexOf(`${type}.attributeTypeMap = [`);
  if (start < 0) return null;
  const open = text.indexOf('[', start);
  const close = text.indexOf('\n];', open);
  if (close < 0) return null;
  try {
    const list = JSON.parse(text.slice(open, close + 2)) as { baseName: string; type: string }[];
    return new Map(list.map((f) => [f.baseName, { name: f.baseName, type: f.type }]));
  } catch {
    return null;
  }
}

/** True when `kind` is a built-in Kubernetes kind (a top-level type with apiVersion, kind and metadata). */
export function isBuiltinKind(kind: string): boolean {
  for (const version of ['V1', 'V2', 'V1beta1', 'V1beta2', 'V1alpha1', 'V1alpha2', 'V1alpha3']) {
    const f = typeFields(version + kind);
    if (f?.has('kind') && f.has('metadata')) return true;
  }
  return false;
}

/** The library could be read (tests check this, so that strict checking cannot silently turn off). */
export function schemaAvailable(): boolean {
  return typeFields('V1Service') !== null;
}
