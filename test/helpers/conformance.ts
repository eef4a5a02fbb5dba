// The shared conformance data (upstream kube-proxy's behaviour as YAML) sits beside the project,
// never inside it. A clone without it (from GitHub, say) still runs every other test: the
// conformance tests then skip with one line saying why. Under CI the data is always laid
// beside the clone, so there a missing file fails instead of skipping silently.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { parse } from 'yaml';
import { SHARED } from './paths.js';

export const CONFORMANCE_FILE = join(SHARED, 'conformance', 'kube-proxy-flows.yaml');

/** The one-line reason the data cannot be read, or undefined when it is there. */
export function conformanceMissing(): string | undefined {
  if (existsSync(CONFORMANCE_FILE)) return undefined;
  return `no conformance data at ${CONFORMANCE_FILE} (the shared folder is not beside this clone)`;
}

/**
 * The parsed data, or null after registering one test that skips (fails under CI) with the
 * reason. Callers register their tests only when this returns the data.
 */
export function conformanceData<T = any>(): T | null {
  const missing = conformanceMissing();
  if (missing === undefined) return parse(readFileSync(CONFORMANCE_FILE, 'utf8')) as T;
  if (process.env.CI) it('conformance data', () => assert.fail(missing));
  else it('conformance data', { skip: missing }, () => {});
  return null;
}

/** For `{ skip }`: the reason when the data is missing (outside CI), else false. */
export function conformanceSkip(): string | false {
  return process.env.CI ? false : (conformanceMissing() ?? false);
}
