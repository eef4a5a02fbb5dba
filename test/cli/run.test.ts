// `kproxy run` refuses what it cannot do before starting anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fromRoot } from '../helpers/paths.js';

describe('kproxy run', () => {
  it('names the flag when the chosen mode is not built, and starts nothing', () => {
    for (const mode of ['iptables', 'ipvs', 'ebpf']) {
      const r = spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), 'run', '--manifests', fromRoot('examples'), '--proxy-mode', mode, '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', 'off'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^kproxy: --proxy-mode: "${mode}": it is not built into this kproxy; kproxy run works with: userspace .*nftables`));
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    }
  });

  it('without --proxy-mode, says what is built and what to pass, naming no flag the user did not type', () => {
    const r = spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), 'run', '--manifests', fromRoot('examples')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^kproxy: no proxy mode was chosen, and the default mode, iptables, is not built/);
    assert.match(r.stderr, /works with: userspace .*nftables/);
    assert.match(r.stderr, /Choose one: --proxy-mode userspace/);
    assert.doesNotMatch(r.stderr, /--proxy-mode:/, 'no flag is blamed');
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
