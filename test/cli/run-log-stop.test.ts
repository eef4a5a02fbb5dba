// The stop line of `kproxy run` tells a user how to remove the rules that stay: every kernel
// mode has its part in `kproxy cleanup`.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { logStop } from '../../src/cli/run-log.js';
import { createLogger } from '../../src/util/log.js';

test('the stop line of every kernel mode names kproxy cleanup', async () => {
  for (const mode of ['nftables', 'iptables', 'ipvs', 'ebpf']) {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    logStop(createLogger(0, out, 'json'), mode);
    await new Promise((r) => setImmediate(r));
    const msg = (JSON.parse(text.trim().split('\n').pop()!) as { msg: string }).msg;
    assert.match(msg, /rules stay in place.*`kproxy cleanup` removes them/, `${mode}: ${msg}`);
  }
});
