// `kproxy run --proxy-mode ebpf` refuses a missing, root or foreign --bpf-cgroup-root with one
// line naming the flag, before it touches anything.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgroup2Mount } from '../../src/bpf/mounts.js';
import { kproxy } from './run-kproxy.js';

const FIXTURE = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'test/fixtures/trace');
const run = (extra: string[]) => kproxy(['run', '--proxy-mode', 'ebpf', '--manifests', FIXTURE, '--hostname-override', 'test-node', ...extra]);

describe('ebpf mode configuration errors', () => {
  it('no --bpf-cgroup-root', async () => {
    const r = await run([]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').at(-1), 'kproxy: --bpf-cgroup-root: required in ebpf mode: the cgroup v2 directory holding the workloads whose sockets are load-balanced');
  });

  it('the root cgroup, or a directory outside the cgroup2 mount', { skip: cgroup2Mount() ? false : 'no cgroup2 mount' }, async () => {
    const root = await run(['--bpf-cgroup-root', cgroup2Mount()!]);
    assert.equal(root.code, 2);
    assert.match(root.stderr.trim(), /^kproxy: --bpf-cgroup-root: .* is the root cgroup: choose a child cgroup holding the workloads$/m);
    const elsewhere = await run(['--bpf-cgroup-root', '/tmp']);
    assert.equal(elsewhere.code, 2);
    assert.match(elsewhere.stderr.trim(), /--bpf-cgroup-root: \/tmp is not below the cgroup2 mount/);
  });
});
