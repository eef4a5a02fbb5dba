// The userspace dataplane as root inside a network namespace, with non-loopback service IPs
// that kproxy adds to its own dummy interface (and removes again). Skipped when not root.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { AddressManager, inOwnNetns } from '../../../src/dataplanes/userspace/addresses.js';

const root = process.getuid?.() === 0;
const hasIp = spawnSync('ip', ['-V']).status === 0;
const skip = !root ? 'needs root (network namespaces)' : !hasIp ? 'needs iproute2 (ip)' : false;
const PREFIX = 'kp4us-';
const ns = `${PREFIX}${process.pid}-${Math.floor(Math.random() * 1e6)}`;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

describe('userspace dataplane in a network namespace', { skip }, () => {
  before(() => {
    // namespaces left by a crashed run of this suite
    for (const line of ip('netns', 'list').split('\n')) {
      const name = line.split(' ')[0];
      if (name.startsWith(PREFIX)) spawnSync('ip', ['netns', 'del', name]);
    }
    ip('netns', 'add', ns);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  });
  after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('serves non-loopback VIPs (TCP, UDP, IPv6) on kproxy0 (or lo) and removes them when Services go and kproxy stops', () => {
    const scenario = fileURLToPath(new URL('./netns-scenario.js', import.meta.url));
    const kproxy = fileURLToPath(new URL('../../../../bin/kproxy.js', import.meta.url));
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, scenario, ns, kproxy], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(rep.clusterIPBackends, ['a', 'b']);
    assert.equal(rep.externalIP.length, 1);
    assert.deepEqual(rep.udp, { text: 'u:hi', from: '10.96.0.53' });
    assert.equal(rep.ipv6, 'six');
    assert.deepEqual(rep.addressesWhileRunning, ['10.96.0.10', '10.96.0.53', '192.0.2.10', 'fd00:96::10']);
    assert.equal(rep.exit, 0);
    assert.equal(rep.interfaceAfterStop, false, 'kproxy0 removed on stop');
    assert.deepEqual(rep.addressesAfterStop, [], 'every address removed on stop');
    assert.deepEqual(rep.kproxyErrors, []);
    assert.equal(rep.tmpWhileServed, true);
    assert.equal(rep.tmpAnswer, 'a');
    assert.equal(rep.tmpAfterRemoval, false, 'the address left with its Service');
  });

  it('adds the addresses of 500 Services in one ip run, removes them in one, and keeps the rest of a batch when one line fails', () => {
    const scenario = fileURLToPath(new URL('./address-batch-scenario.js', import.meta.url));
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, scenario, ns], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(rep.error, undefined);
    assert.equal(rep.addedCount, 500);
    assert.equal(rep.addedAll, true, 'every ClusterIP on the interface');
    assert.equal(rep.listeners, 500);
    assert.equal(rep.addRuns, 1, 'one ip process for the whole sync');
    assert.equal(rep.addBatches, 1);
    assert.equal(rep.recordMatchesKernel, true);
    assert.equal(rep.removedAll, true, 'every address removed with its Service');
    assert.equal(rep.removeRuns, 1, 'one ip process for the removals');
    assert.equal(rep.recordEmpty, true);
    assert.deepEqual(rep.withRefused, ['10.97.9.1', '10.97.9.2'], 'the lines around the refused one applied');
    assert.equal(rep.refusedRecordMatches, true);
    assert.match(rep.refusedReason, /addr replace fd00:97::2\/128 dev \S+ nodad: .*IPv6 is disabled/);
    assert.deepEqual(rep.listenersWithRefused, ['TCP/10.97.9.1/81', 'TCP/10.97.9.2/81']);
    assert.deepEqual(rep.afterRetry, ['10.97.9.1', '10.97.9.2', 'fd00:97::1'], 'the next sync added the refused address');
    assert.equal(rep.listenersAfterRetry.length, 3);
    assert.deepEqual(rep.afterClose, []);
  });

  it('in the host namespace, kproxy refuses to add addresses, with a clear error', async () => {
    assert.equal(inOwnNetns(), false, 'this test process runs in the host namespace');
    await assert.rejects(new AddressManager().acquire('10.96.0.99', new Set()), /host's own network namespace/);
  });
});
