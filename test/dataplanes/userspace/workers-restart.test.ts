// --userspace-workers: "auto" means one worker per core beyond the first; a worker that dies
// is started again and serves the existing listeners.
import assert from 'node:assert/strict';
import type net from 'node:net';
import os from 'node:os';
import { after, describe, it } from 'node:test';
import { workerCount } from '../../../src/dataplanes/userspace/dataplane.js';
import { Harness, closeServer, holdOpen, net127, randomPort, service, slice, sleep, tcpBackend } from './helpers.js';

describe('userspace worker processes: count and restart', () => {
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('auto is one per core beyond the first; numbers are taken as given; anything else is refused', () => {
    assert.equal(workerCount('auto'), Math.min(os.availableParallelism() - 1, 8));
    // on the splice path a process keeps two cores busy (main and pump thread)
    assert.equal(workerCount('auto', 2), Math.min(Math.max(Math.floor(os.availableParallelism() / 2) - 1, 0), 8));
    assert.equal(workerCount(3), 3);
    assert.equal(workerCount('0'), 0);
    // named as the user gave it: only the environment variable reaches here unchecked
    assert.throws(() => workerCount('many'), /^ConfigError: KPROXY_USERSPACE_WORKERS: expected auto or a whole number from 0 to 64, got "many"$/);
    assert.throws(() => workerCount(65), /KPROXY_USERSPACE_WORKERS/);
  });

  it('a worker killed is started again, and the new one accepts on the existing listener', async () => {
    const p = net127();
    const port = randomPort();
    const bport = randomPort();
    const srv: net.Server = await tcpBackend('b0', `${p}.101`, bport);
    closers.push(() => closeServer(srv));
    const h = new Harness({}, { workers: 1, serviceGraceMs: 100 });
    closers.push(() => h.close());
    await h.dataplane.workersReady();
    const vip = `${p}.1`;
    await h.apply(service({ name: 'w', clusterIP: vip, port }), slice('w', [{ ip: `${p}.101`, port: bport }]));
    const [first] = h.dataplane.workers().pids;
    process.kill(first, 'SIGKILL'); // our own child
    for (let i = 0; i < 100 && h.dataplane.workers().restarts === 0; i++) await sleep(50);
    assert.equal(h.dataplane.workers().restarts, 1);
    const [second] = h.dataplane.workers().pids;
    assert.notEqual(second, first);
    // the new worker takes connections: some of 60 held ones are not in the primary
    let held: { socket: net.Socket }[] = [];
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      held = await Promise.all(Array.from({ length: 60 }, () => holdOpen(vip, port)));
      const inPrimary = h.dataplane.metrics.live.tcpConnections;
      for (const x of held) x.socket.destroy();
      if (inPrimary < 60) return;
    }
    assert.fail('the restarted worker never accepted a connection');
  });
});
