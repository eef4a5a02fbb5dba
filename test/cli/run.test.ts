// `kproxy run` refuses what it cannot do before starting anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { PROXY_MODES } from '../../src/config/load.js';
import { availableModes } from '../../src/dataplanes/registry.js';
import { fromRoot } from '../helpers/paths.js';

// Only modes that are not built: starting a built kernel mode here would program the test
// machine's own network namespace.
const unbuilt = PROXY_MODES.filter((m) => !availableModes().includes(m));

describe('kproxy run', () => {
  it('names the flag when the chosen mode is not built, and starts nothing', { skip: unbuilt.length === 0 ? 'every mode is built' : false }, () => {
    for (const mode of unbuilt) {
      const r = spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), 'run', '--manifests', fromRoot('examples'), '--proxy-mode', mode, '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', 'off'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--proxy-mode: "${mode}" is not implemented yet \\(available: .*userspace.*\\)`));
    }
  });
});
