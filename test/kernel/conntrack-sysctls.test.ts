// kproxy run in nftables mode sets the conntrack sysctls it is given — inside the network
// namespace it runs in (one this test creates), and never in the host's namespace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inHostNetworkNamespace } from '../../src/conntrack/sysctls.js';
import { exec, kernelSkipReason, PROJECT_ROOT } from './harness.js';

const SYSCTL = '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established';
const UDP = '/proc/sys/net/netfilter/nf_conntrack_udp_timeout';

describe('conntrack sysctls', () => {
  const skip = kernelSkipReason(['nft', 'ip']);
  it('are set in the node namespace only, never in the host namespace', { skip: skip ?? false }, async () => {
    assert.equal(inHostNetworkNamespace(), true, 'the test runner itself is in the host namespace');
    const ns = `kp13ct${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-ct-'));
    writeFileSync(join(dir, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  clusterIP: 10.96.0.10\n  ports: [{port: 80}]\n');
    const hostBefore = [readFileSync(SYSCTL, 'utf8'), readFileSync(UDP, 'utf8')];
    await exec('ip', ['netns', 'add', ns]);
    let child: ReturnType<typeof spawn> | null = null;
    try {
      await exec('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      const nsValue = async (path: string) => (await exec('ip', ['netns', 'exec', ns, 'cat', path])).stdout.trim();
      // A value nobody would have: 7261 s (2h1m1s), and 47 s for UDP.
      child = spawn(
        'ip',
        [
          'netns',
          'exec',
          ns,
          process.execPath,
          join(PROJECT_ROOT, 'bin/kproxy.js'),
          'run',
          '--proxy-mode',
          'nftables',
          '--manifests',
          dir,
          '--hostname-override',
          'n1',
          '--metrics-bind-address',
          '',
          '--healthz-bind-address',
          '',
          '--dns-bind-address',
          'off',
          '--log-format',
          'text',
          '--conntrack-tcp-timeout-established',
          '2h1m1s',
          '--conntrack-udp-timeout',
          '47s',
          '--conntrack-max-per-core',
          '0',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
      for (let i = 0; i < 150 && !/first sync|sync failed/.test(err); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(err, /conntrack sysctls set in this network namespace: .*nf_conntrack_tcp_timeout_established=7261/, err);
      assert.equal(await nsValue(SYSCTL), '7261');
      assert.equal(await nsValue(UDP), '47');
      assert.deepEqual([readFileSync(SYSCTL, 'utf8'), readFileSync(UDP, 'utf8')], hostBefore, "the host's values are untouched");
    } finally {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child!.once('exit', r));
      }
      await exec('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
