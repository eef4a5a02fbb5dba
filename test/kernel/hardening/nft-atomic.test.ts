// kill -9 during a full nftables sync must leave the old ruleset (here: none), never a
// partial one; a restarted kproxy replaces whatever table it finds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelSkipReason } from '../harness.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'nft-child.js');
const skip = kernelSkipReason(['nft', 'ip']);

function withNetns<T>(fn: (ns: string, run: (...args: string[]) => string) => T): T {
  const ns = `k12-nft-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const run = (...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8', env: { ...process.env, KPROXY_TEST_NETNS: ns } });
    return fn(ns, run);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
}

function child(ns: string, scenario: string) {
  return spawnSync('ip', ['netns', 'exec', ns, process.execPath, CHILD, scenario], { encoding: 'utf8', env: { ...process.env, KPROXY_TEST_NETNS: ns }, timeout: 30_000 });
}

test('kill -9 in the middle of a full sync commits nothing; a restart replaces what it finds', { skip: skip ?? false }, () => {
  withNetns((ns, run) => {
    const killed = child(ns, 'killed-mid-sync');
    assert.equal(killed.signal ?? (killed.status === 137 ? 'SIGKILL' : killed.status), 'SIGKILL', killed.stderr);
    // Give an nft that read a cut stream time to commit it (it would within milliseconds).
    execFileSync('sleep', ['0.5']);
    const tables = run('nft', 'list', 'tables');
    assert.doesNotMatch(tables, /kproxy/, 'no partial table was committed');
    // What a killed streaming sync used to leave: a table with chains and an empty map.
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
      input: 'add table ip kproxy\nadd chain ip kproxy junk\nadd map ip kproxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }\n',
    });
    const r = child(ns, 'replace');
    assert.equal(r.status, 0, r.stderr);
    const table = run('nft', 'list', 'table', 'ip', 'kproxy');
    assert.doesNotMatch(table, /chain junk/, 'the leftover was replaced');
    assert.match(table, /172\.30\.0\.41/, 'the new ruleset is complete');
  });
});
