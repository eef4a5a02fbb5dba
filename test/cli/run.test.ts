// `kproxy run` refuses what it cannot do before starting anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { availableModes } from '../../src/dataplanes/registry.js';
import { fromRoot } from '../helpers/paths.js';

describe('kproxy run', () => {
  it('names the flag when the chosen mode is not built, and starts nothing', (t) => {
    const unbuilt = ['iptables', 'ipvs', 'ebpf'].filter((m) => !(availableModes() as string[]).includes(m));
    if (unbuilt.length === 0) return t.skip('every mode is built');
    for (const mode of unbuilt) {
      const r = spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), 'run', '--manifests', fromRoot('examples'), '--proxy-mode', mode, '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', 'off'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--proxy-mode: "${mode}" is not implemented yet \\(available: .*userspace.*\\)`));
    }
  });
});
