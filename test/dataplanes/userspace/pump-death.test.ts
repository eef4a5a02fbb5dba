// The pump thread dies (forced here with terminate(), as a crash or a kill of the thread would
// end it): every socket it held is closed, the backend sockets it dialled itself among them,
// its connections are counted as failed, and new connections are copied in JavaScript.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Worker } from 'node:worker_threads';
import { after, it } from 'node:test';
import { loadLibc } from '../../../src/dataplanes/userspace/splice/libc.js';
import { Harness, closeServer, net127, randomPort, service, slice, sleep } from './helpers.js';

/** The engine's private parts a test may touch. */
interface EngineInside {
  worker: Worker;
  heldFds(): number[];
}

it('a dead pump thread leaves no socket open and its connections counted as failed', { skip: loadLibc() ? false : 'koffi is not available' }, async () => {
  const p = net127();
  const port = randomPort();
  const bport = randomPort();
  const vip = `${p}.1`;
  // the backend echoes and keeps every accepted socket, to see each one closed
  const open = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    open.add(s);
    s.on('error', () => {});
    s.on('close', () => open.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => srv.listen(bport, `${p}.101`, () => r()));
  const h = new Harness({}, { bulkPath: 'splice' });
  const clients: net.Socket[] = [];
  after(async () => {
    // (whatever a failure left open must not hold the run)
    for (const s of [...open, ...clients]) s.destroy();
    await h.close();
    await closeServer(srv);
  });
  await h.apply(service({ name: 'b', clusterIP: vip, port }), slice('b', [{ ip: `${p}.101`, port: bport }]));
  assert.equal(await h.dataplane.bulkPathReady(), 'splice');
  const engine = (h.dataplane as unknown as { engine: EngineInside }).engine;

  const N = 5;
  const before = h.dataplane.bulkPathCounts().dialled;
  const made = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const c = net.connect({ host: vip, port });
      c.on('error', () => {});
      await new Promise<void>((resolve) => {
        c.once('data', () => resolve());
        c.write(`hello ${i}`);
      });
      return c;
    }),
  );
  clients.push(...made);
  assert.equal(h.dataplane.bulkPathCounts().dialled - before, N, 'the pump dialled every backend itself');
  assert.equal(open.size, N);
  assert.ok(engine.heldFds().length >= 2 * N, `the pump holds both sockets of each connection (${engine.heldFds().length})`);
  const clientsClosed = Promise.all(clients.map((c) => new Promise((r) => (c.closed ? r(null) : c.once('close', r)))));

  await engine.worker.terminate();
  for (let i = 0; i < 100 && (open.size > 0 || h.dataplane.bulkPath === 'splice'); i++) await sleep(20);
  assert.equal(open.size, 0, 'every backend socket the pump dialled is closed');
  await clientsClosed;
  assert.deepEqual(engine.heldFds(), [], 'nothing the pump held is left open');
  assert.equal(await h.metric('kproxy_userspace_failed_connections_total'), N);
  assert.equal(await h.metric('kproxy_userspace_tcp_connections'), 0);
  assert.equal(h.dataplane.balancer('default/b:/TCP/IPv4')?.backends('internal')[0].active, 0);

  // new connections go on, copied in JavaScript
  assert.equal(h.dataplane.bulkPath, 'js');
  const c = net.connect({ host: vip, port });
  const echoed = await new Promise<string>((resolve, reject) => {
    c.once('data', (d) => resolve(String(d)));
    c.once('error', reject);
    c.write('again');
  });
  assert.equal(echoed, 'again');
  c.destroy();
  for (let i = 0; i < 50 && (await h.metric('kproxy_userspace_tcp_connections')) > 0; i++) await sleep(20);
  assert.equal(await h.metric('kproxy_userspace_tcp_connections'), 0);
});
