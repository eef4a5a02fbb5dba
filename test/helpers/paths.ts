// Paths relative to the project root, whether a test runs from dist/test or elsewhere.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('project root not found');
    dir = up;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();

/** ../shared beside the project root (the conformance data lives there; never copied in). */
export const SHARED = resolve(PROJECT_ROOT, '..', 'shared');

export const fromRoot = (...p: string[]) => join(PROJECT_ROOT, ...p);
