// The import-graph check that CI runs: it passes on src/ and fails, naming the files, on a
// tree with a cycle, a model that imports a dataplane, and a dataplane that imports another.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/paths.js';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'check-imports.js');
const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

test("kproxy's own src/ has no cycle and no forbidden import", () => {
  const r = run();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /no cycle, no forbidden import/);
});

test('a cycle and forbidden arrows are reported with their files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-imports-'));
  const file = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  try {
    file('dns/a.ts', "import { b } from './b.js';\nexport const a = 1;\n");
    file('dns/b.ts', "import type { a } from './a.js';\nexport const b = 2;\n");
    file('model/types.ts', "export const x = await import('../dataplanes/nftables/compile.js');\n");
    file('dataplanes/nftables/compile.ts', "export { y } from '../userspace/y.js';\n");
    file('dataplanes/userspace/y.ts', 'export const y = 3;\n');
    const r = run('--src', dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /import cycle: src\/dns\/a\.ts → src\/dns\/b\.ts → src\/dns\/a\.ts/);
    assert.match(r.stderr, /forbidden import: src\/model\/types\.ts → src\/dataplanes\/nftables\/compile\.ts/);
    assert.match(r.stderr, /forbidden import: src\/dataplanes\/nftables\/compile\.ts → src\/dataplanes\/userspace\/y\.ts \(a dataplane never imports another dataplane\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
