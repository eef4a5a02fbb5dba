// A new user's first hour, with the real binary: help that points only at files in this
// repository, and one clear line for each mistake a user makes with the configuration.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fromRoot } from '../helpers/paths.js';

const BIN = fromRoot('bin/kproxy.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
const oneLine = (r: { status: number | null; stderr: string }, re: RegExp) => {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, re);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
};

describe('a new user', () => {
  it('every help names only files that are in the repository', () => {
    for (const cmd of [[], ['run'], ['services'], ['rules'], ['trace'], ['cleanup'], ['bench']]) {
      const r = run([...cmd, '--help']);
      assert.equal(r.status, 0, r.stderr);
      // documents, and paths with a folder (bench's bare `results.json` is a file it writes)
      const files = r.stdout.match(/[\w./-]+\.md\b|[\w.-]+\/[\w./-]+\.(?:ts|js|yaml|json)\b/g) ?? [];
      for (const f of files) assert.ok(existsSync(fromRoot(f)), `kproxy ${cmd.join(' ')} --help names ${f}, which is not in the repository`);
      assert.doesNotMatch(r.stdout, /\.\.\/shared|\bissue \d/);
    }
  });

  it('a --config file that is not YAML is one line naming the file and where it breaks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-newuser-'));
    try {
      writeFileSync(join(dir, 'c.yaml'), 'foo: [\n');
      oneLine(run(['services', '--manifests', fromRoot('examples'), '--config', join(dir, 'c.yaml')]), /^kproxy: --config: .*c\.yaml is not valid YAML: .*line 2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kproxy run with a missing or broken kubeconfig stops in one line before any server starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-newuser-'));
    try {
      writeFileSync(join(dir, 'kubeconfig'), 'garbage\n');
      // userspace mode, no servers: even if the check were missing, nothing would be changed
      const quiet = ['run', '--proxy-mode', 'userspace', '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', 'off'];
      oneLine(run([...quiet, '--kubeconfig', join(dir, 'nope')]), /^kproxy: --kubeconfig: .*nope: no such file\n$/);
      oneLine(run([...quiet, '--kubeconfig', join(dir, 'kubeconfig')]), /^kproxy: --kubeconfig: .*kubeconfig: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a setting that exists only as kproxy's flag is named by its flag", () => {
    oneLine(run(['rules', '--manifests', fromRoot('examples'), '--service-cluster-ip-range', '10.0.0.0/8']), /^kproxy: --service-cluster-ip-range: 10\.0\.0\.0\/8 is too large/);
  });
});
