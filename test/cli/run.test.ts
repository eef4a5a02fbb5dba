// `kproxy run` and the default mode. Never `kproxy run` a kernel mode in a test outside a
// network namespace the test created: this process runs in the host's namespace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fromRoot } from '../helpers/paths.js';

describe('kproxy run', () => {
  // Never `kproxy run` a kernel mode here: this process runs in the host's network namespace.
  // The default is checked through `kproxy rules`, which programs nothing.
  it('without --proxy-mode the mode is iptables, as in kube-proxy', () => {
    const r = spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), 'rules', '--manifests', fromRoot('examples')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\*nat$/m, 'iptables-restore input');
    assert.match(r.stdout, /^:KUBE-SERVICES - \[0:0\]$/m);
  });
});
