// The resident netlink element writer against the real kernel: the same scenario of syncs is
// run in two fresh namespaces, once with element-only partial syncs written through netlink
// and once with nft alone, and after every step both kernels must hold the same ruleset.
// A batch the kernel refuses changes nothing, and the next sync replaces the tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelSkipReason } from './harness.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'nft-writer-child.js');
const skip = kernelSkipReason(['nft', 'ip']);

function inNetns(tag: string, args: string[]): Record<string, unknown>[] {
  const ns = `k17w-${tag}-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, CHILD, ...args], {
      encoding: 'utf8',
      env: { ...process.env, KPROXY_TEST_NETNS: ns },
      timeout: 60_000,
      maxBuffer: 256 * 1024 * 1024,
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

test('element-only partial syncs through netlink leave the kernel exactly as nft does', { skip: skip ?? false }, () => {
  const viaNetlink = inNetns('nl', ['steps', 'netlink']);
  const viaNft = inNetns('nft', ['steps', 'nft']);
  assert.equal(viaNetlink.length, viaNft.length);
  let netlinkSteps = 0;
  for (let i = 0; i < viaNft.length; i++) {
    const a = viaNetlink[i];
    const b = viaNft[i];
    assert.equal(a.kind, b.kind, `step ${i}`);
    assert.notEqual(b.writer, 'netlink');
    if (a.writer === 'netlink') netlinkSteps++;
    assert.equal(a.listing, b.listing, `step ${i}: ${a.kind} sync written by ${a.writer}`);
  }
  assert.ok(netlinkSteps >= 10, `${netlinkSteps} of ${viaNft.length - 1} partial syncs went through netlink`);
  assert.match(String(viaNft[0].listing), /fd00:10::/, 'the scenario has IPv6 endpoints');
});

test('a netlink batch the kernel refuses changes nothing; the next sync replaces the tables', { skip: skip ?? false }, () => {
  const [r] = inNetns('fail', ['failure', 'netlink']);
  assert.match(String(r.error), /delete element ip kproxy service-endpoints-tcp: No such file or directory/);
  assert.equal(r.afterFailure, r.tampered, 'nothing of the refused batch reached the kernel');
  assert.notEqual(r.tampered, r.before);
  const recovered = r.recovered as Record<string, unknown>;
  assert.equal(recovered.kind, 'replace');
  assert.equal(recovered.writer, 'nft');
  assert.doesNotMatch(String(recovered.listing), /^$/);
});
