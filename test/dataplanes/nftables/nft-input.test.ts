// runNft hands nft a file holding exactly the input: strings and Buffers (the full sync's
// bytes) alike, in order; a failure quotes the input line nft names. A stand-in for nft (a
// shell script) copies the file it is given, so no kernel is touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectText, NftError, runNft } from '../../../src/dataplanes/nftables/nft.js';

async function* chunks(parts: (string | Buffer)[]): AsyncGenerator<string | Buffer> {
  yield* parts;
}

function fakeNft(dir: string, fail: boolean): { binary: string; copy: string } {
  const copy = join(dir, 'received.nft');
  const binary = join(dir, 'nft');
  // Called as `nft -f FILE`; on failure it names line 3 as nft does ("FILE:3:1-4: Error: …").
  writeFileSync(binary, `#!/bin/sh\ncp "$2" ${copy}\n${fail ? `echo "$2:3:1-4: Error: no such thing" >&2\nexit 1\n` : 'exit 0\n'}`);
  chmodSync(binary, 0o755);
  return { binary, copy };
}

const parts = () => [Buffer.from('add table ip kproxy\n'), 'add chain ip kproxy a\n', Buffer.from('add rule ip kproxy a counter comment "é"\n', 'utf8'), 'delete table ip kproxy\n'];

test('the file nft reads is the input, Buffers and strings in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-nft-input-'));
  try {
    const { binary, copy } = fakeNft(dir, false);
    await runNft(chunks(parts()), binary, 10_000);
    const expected = Buffer.concat(parts().map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    assert.ok(readFileSync(copy).equals(expected));
    assert.equal(await collectText(chunks(parts())), expected.toString('utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failure quotes the line nft names, from Buffer input too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-nft-input-'));
  try {
    const { binary } = fakeNft(dir, true);
    await assert.rejects(
      runNft(chunks(parts()), binary, 10_000),
      (e: unknown) => e instanceof NftError && /ruleset:3:1-4: Error: no such thing \[line 3: add rule ip kproxy a counter comment "é"\]/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
