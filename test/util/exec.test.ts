// Every external command has a deadline: a command that hangs, even one that ignores
// SIGTERM, is killed and the caller gets an error naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execWithTimeout, ExecError } from '../../src/util/exec.js';
import { nftRunner, NftError } from '../../src/dataplanes/nftables/nft.js';
import { conntrackExec } from '../../src/conntrack/reconciler.js';

function hangingCommand(dir: string, name: string): string {
  const p = join(dir, name);
  // Writes its pid, ignores SIGTERM, and sleeps (exec keeps the pid and the ignored signal).
  writeFileSync(p, `#!/bin/sh\necho $$ > "${p}.pid"\ntrap '' TERM\nexec sleep 600\n`);
  chmodSync(p, 0o755);
  return p;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a hanging command (ignoring SIGTERM) is killed after its deadline; nft and conntrack use it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-exec-'));
  try {
    const bin = hangingCommand(dir, 'hang');
    const t0 = performance.now();
    await assert.rejects(execWithTimeout(bin, ['x'], { timeoutMs: 200, killGraceMs: 200 }), (e: unknown) => e instanceof ExecError && e.timedOut && /no answer within 200 ms; killed/.test(e.message));
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `took ${ms} ms`);
    const pid = Number(readFileSync(`${bin}.pid`, 'utf8'));
    assert.equal(alive(pid), false, 'the command is gone');

    const nft = hangingCommand(dir, 'nft');
    await assert.rejects(nftRunner(nft, 200)('add table ip kproxy\n'), (e: unknown) => e instanceof NftError && /no answer within/.test(e.message));
    assert.equal(alive(Number(readFileSync(`${nft}.pid`, 'utf8'))), false);

    const ct = hangingCommand(dir, 'conntrack');
    await assert.rejects(conntrackExec(ct, 200)(['-L']), /no answer within/);
    // A command that works is unaffected, and its input and output go through.
    const r = await execWithTimeout('cat', [], { input: 'hello', timeoutMs: 5000 });
    assert.deepEqual([r.code, r.stdout], [0, 'hello']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('input given as a string, as bytes, or as byte segments reaches stdin whole and in order', async () => {
  const big = Buffer.alloc(300_000, 'x'); // more than a pipe holds at once
  for (const input of ['a\nb\n', Buffer.from('a\nb\n'), [Buffer.from('a\n'), big, Buffer.from('b\n')]]) {
    const r = await execWithTimeout('cat', [], { input, timeoutMs: 10_000, maxOutputBytes: 1_000_000 });
    const expected = Array.isArray(input) ? Buffer.concat(input).toString() : input.toString();
    assert.equal(r.stdout, expected);
  }
});
