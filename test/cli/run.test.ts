// `kproxy run` refuses what it cannot do before starting anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { availableModes } from '../../src/dataplanes/registry.js';
import { fromRoot } from '../helpers/paths.js';

describe('kproxy run', () => {
  it('names the flag when the chosen mode is not built, and starts nothing', (t) => {
    // ipvs is not listed: it is built, and on a kernel without IPVS it falls back to iptables
    // mode, which would start programming this namespace; test/kernel/ipvs.test.ts runs it in
    // a network namespace of its own.
    const unbuilt = ['iptables', 'ebpf'].filter((m) => !(availableModes() as string[]).includes(m));
    if (unbuilt.length === 0) return t.skip('every mode is built');
    for (const mode of unbuilt) {
      const r = spawnSync(
        process.execPath,
        [fromRoot('bin/kproxy.js'), 'run', '--manifests', fromRoot('examples'), '--proxy-mode', mode, '--metrics-bind-address', '', '--healthz-bind-address', '', '--dns-bind-address', 'off'],
        { encoding: 'utf8', timeout: 20_000 },
      );
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^kproxy: --proxy-mode: "${mode}": it is not built into this kproxy; kproxy run works with: userspace .*nftables`));
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    }
  });

  // Never `kproxy run` a kernel mode here: this process runs in the host's network namespace.
  // The default is checked through `kproxy rules`, which programs nothing.
  it('without --proxy-mode the mode is iptables, as in kube-proxy', () => {
    const r = spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), 'rules', '--manifests', fromRoot('examples')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\*nat$/m, 'iptables-restore input');
    assert.match(r.stdout, /^:KUBE-SERVICES - \[0:0\]$/m);
  });
});
