// `kproxy trace` starts from the bundled CLI (scripts/bundle.js, dist/src/cli-bundle/) when
// the build made one. The bundle must answer exactly as the compiled modules do: same story,
// same JSON, same refusal of a bad flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FIXTURE = join(ROOT, 'test/fixtures/trace');
const base = ['trace', '--proxy-mode', 'nftables', '--manifests', FIXTURE, '--hostname-override', 'test-node', '--cluster-cidr', '10.0.0.0/8'];

function node(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(ROOT, script), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('the bundled CLI traces exactly as the compiled modules do', async () => {
  assert.ok(existsSync(join(ROOT, 'dist/src/cli-bundle/main.js')), 'no bundle: run `npm run build`');
  const cases = [
    [...base, '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', '80', '--json'],
    [...base, '--src', '203.0.113.7', '--dst', '192.168.0.2', '--dport', '30080'],
    [...base, '--src', '10.0.0.5', '--dst', '10.96.0.10', '--dport', 'eighty'],
  ];
  for (const args of cases) {
    const [bundled, plain] = await Promise.all([node('dist/src/cli-bundle/main.js', args), node('dist/src/cli/main.js', args)]);
    assert.deepEqual(bundled, plain, args.join(' '));
  }
  const viaBin = await node('bin/kproxy.js', cases[0]);
  assert.equal(viaBin.code, 0, viaBin.stderr);
  assert.equal(JSON.parse(viaBin.stdout).verdict, 'DNAT');
});
