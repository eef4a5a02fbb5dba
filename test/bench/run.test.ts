// One small real run of `kproxy bench` (needs root and nft): the nftables mode at 10
// Services, in the namespaces the bench creates; it must measure real traffic, give every
// figure beside the direct connection, and leave no namespace behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { BenchResults } from '../../src/bench/types.js';
import { fromRoot } from '../helpers/paths.js';

const onPath = (t: string) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => existsSync(`${d}/${t}`));
const skip = process.getuid?.() !== 0 ? 'needs root (network namespaces)' : !onPath('nft') ? 'needs nft' : false;

describe('kproxy bench, one small real run', { skip }, () => {
  it('measures the nftables mode at 10 Services against the direct connection, then removes its namespaces', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [fromRoot('bin/kproxy.js'), 'bench', '--sizes', '10', '--modes', 'nftables', '--no-haproxy', '--no-guest', '--samples', '100', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise((r) => child.once('close', r));
    assert.equal(code, 0, err);
    const r = JSON.parse(out) as BenchResults;
    assert.equal(r.modes.length, 1);
    const [s] = r.modes[0].sizes;
    assert.equal(s.status, 'measured', s.reason);
    assert.equal(s.services, 10);
    assert.ok(s.fullSyncMs! > 0 && s.partialSyncMs! > 0 && s.rssMB! > 10, JSON.stringify(s));
    for (const sum of [s.firstPacket!.first, s.firstPacket!.last, s.firstPacket!.direct]) {
      assert.equal(sum.n, 100);
      assert.ok(sum.p50 > 0 && sum.p99 >= sum.p50);
    }
    assert.equal(s.request!.service.n, 500);
    assert.ok(s.cpuPerConnectionUs!.service > 0 && s.cpuPerConnectionUs!.direct > 0);
    assert.deepEqual(
      [r.references.find((x) => x.name.startsWith('kube-proxy'))?.status, r.references.find((x) => x.name.startsWith('kube-proxy'))?.reason],
      ['skipped', 'no binary given (--kube-proxy PATH)'],
    );
    assert.equal(r.guest.status, 'not measured');
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`kpb-${child.pid}-`)) : [];
    assert.deepEqual(left, []);
  });
});
