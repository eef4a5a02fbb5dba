// The two paths that copy TCP bytes (splice in the kernel, driven by the pump thread; and the
// JavaScript copy loop), each on the same checks: integrity both ways at once, half-close in
// either direction, a reset passed on, and the counts back to zero afterwards.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { loadLibc } from '../../../src/dataplanes/userspace/splice/libc.js';
import { Harness, closeServer, net127, randomPort, service, slice, sleep } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Backend behaviours, chosen by the first byte the client sends. */
async function backend(ip: string, port: number): Promise<net.Server> {
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    // a connection the proxy gave up on (a dial timeout on a loaded machine) ends here too
    s.once('end', () => s.bytesRead === 0 && s.end());
    s.once('data', (first: Buffer) => {
      const mode = String.fromCharCode(first[0]);
      if (mode === 'E') {
        // echo everything, end when the client ends
        s.write(first.subarray(1));
        s.pipe(s);
      } else if (mode === 'H') {
        // HTTP/1.0 style: read to the client's FIN, then answer the byte count and close
        let n = first.length - 1;
        s.on('data', (d: Buffer) => (n += d.length));
        s.on('end', () => s.end(`${n}\n`));
      } else if (mode === 'R') {
        s.resetAndDestroy();
      } else if (mode === 'F') {
        // the backend ends first and keeps reading: the client may still send
        s.end('bye\n');
        let n = 0;
        s.on('data', (d: Buffer) => (n += d.length));
        s.on('end', () => s.destroyed || s.destroy());
        s.on('close', () => srv.emit('received', n));
      }
    });
  });
  await new Promise<void>((r) => srv.listen(port, ip, () => r()));
  return srv;
}

function connect(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function readAll(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

for (const path of ['splice', 'js'] as const) {
  describe(`userspace TCP bytes on the ${path} path`, { skip: path === 'splice' && !loadLibc() ? 'koffi is not available' : false }, () => {
    const p = net127();
    const port = randomPort();
    const bport = randomPort();
    const vip = `${p}.1`;
    const closers: (() => unknown)[] = [];
    after(async () => {
      for (const c of closers.reverse()) await c();
    });
    let h: Harness;
    let srv: net.Server;
    afterEach(async (t) => {
      // every connection of the test has ended on both sides: none is left counted
      for (let i = 0; i < 50 && (await h.metric('kproxy_userspace_tcp_connections')) > 0; i++) await sleep(20);
      assert.equal(await h.metric('kproxy_userspace_tcp_connections'), 0, `connections left after "${t.name}"`);
    });

    it('runs on the path asked for', async () => {
      srv = await backend(`${p}.101`, bport);
      closers.push(() => closeServer(srv));
      h = new Harness({}, { bulkPath: path });
      closers.push(() => h.close());
      await h.apply(service({ name: 'b', clusterIP: vip, port }), slice('b', [{ ip: `${p}.101`, port: bport }]));
      assert.equal(await h.dataplane.bulkPathReady(), path);
    });

    it('8 MiB each way at once arrive intact; counts go back to zero', async () => {
      const conns = await Promise.all([1, 2, 3].map(() => connect(vip, port)));
      const results = await Promise.all(
        conns.map(async (c) => {
          const data = Buffer.concat([Buffer.from('E'), randomBytes(8 << 20)]);
          const got = readAll(c);
          c.end(data);
          return [sha(await got), sha(data.subarray(1))];
        }),
      );
      for (const [a, b] of results) assert.equal(a, b);
      await sleep(100);
      assert.equal(await h.metric('kproxy_userspace_tcp_connections'), 0);
      assert.equal(h.dataplane.balancer('default/b:/TCP/IPv4')?.backends('internal')[0].active, 0);
    });

    it('the client half-closes: the backend still answers after reading to the end', async () => {
      const c = await connect(vip, port);
      const got = readAll(c);
      c.write('H');
      c.end(Buffer.alloc(300_000, 1));
      assert.equal((await got).toString(), '300000\n');
    });

    it('the backend half-closes: the client still sends, and the backend receives it', async () => {
      const c = await connect(vip, port);
      const got = readAll(c);
      const received = new Promise<number>((r) => srv.once('received', r));
      c.write('F');
      assert.equal((await got).toString(), 'bye\n');
      c.end(Buffer.alloc(100_000, 2));
      assert.equal(await received, 100_000);
    });

    it('a reset by the backend reaches the client as a reset', async () => {
      const c = await connect(vip, port);
      c.write('R');
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        c.on('error', resolve);
        c.on('close', () => resolve(null));
        c.resume();
      });
      assert.equal(err?.code, 'ECONNRESET');
      await sleep(100);
      assert.equal(await h.metric('kproxy_userspace_tcp_connections'), 0);
    });

    it('every dial refused: the client is reset after the last attempt, and counted', async () => {
      // a second Service whose one endpoint listens nowhere (a port nobody holds)
      const dead = `${p}.2`;
      await h.apply(
        service({ name: 'b', clusterIP: vip, port }),
        slice('b', [{ ip: `${p}.101`, port: bport }]),
        service({ name: 'dead', clusterIP: dead, port }),
        slice('dead', [{ ip: `${p}.102`, port: bport }]),
      );
      const retries = await h.metric('kproxy_userspace_retries_total');
      const rejected = await h.metric('kproxy_userspace_rejected_total');
      const c = await connect(dead, port);
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        c.on('error', resolve);
        c.on('close', () => resolve(null));
        c.resume();
      });
      assert.equal(err?.code, 'ECONNRESET');
      assert.equal((await h.metric('kproxy_userspace_retries_total')) - retries, 4, 'one retry counted per refused attempt');
      assert.equal((await h.metric('kproxy_userspace_rejected_total')) - rejected, 1);
      await h.apply(service({ name: 'b', clusterIP: vip, port }), slice('b', [{ ip: `${p}.101`, port: bport }]));
    });

    it('200 connections at once each get their own bytes back', async () => {
      const before = h.dataplane.bulkPathCounts().dialled;
      const all = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const c = await connect(vip, port);
          const got = readAll(c);
          c.end(`E${i}`);
          return (await got).toString() === String(i);
        }),
      );
      assert.ok(all.every(Boolean));
      // on the splice path they go to the pump straight from accept, without Node sockets
      const dialled = h.dataplane.bulkPathCounts().dialled - before;
      assert.equal(dialled, path === 'splice' ? 200 : 0);
    });
  });
}
