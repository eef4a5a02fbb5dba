// Graceful change: endpoints and Services come and go while connections run.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { Harness, closeServer, net127, randomPort, service, slice, sleep, tcpBackend, whoAnswers } from './helpers.js';

/** A backend that streams `total` bytes to each connection, then closes. */
async function streamer(ip: string, port: number, total: number): Promise<net.Server> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const srv = net.createServer((s) => {
    s.on('error', () => {});
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => srv.listen(port, ip, () => r()));
  return srv;
}

describe('userspace proxy: graceful change', () => {
  const p = net127();
  const port = randomPort();
  const bport = randomPort();
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('an endpoint removed during a long transfer does not break it', async () => {
    const total = 64 * 1024 * 400; // 25 MiB, read slowly
    const srv = await streamer(`${p}.101`, bport, total);
    closers.push(() => closeServer(srv));
    const h = new Harness();
    closers.push(() => h.close());
    const vip = `${p}.1`;
    await h.apply(service({ name: 'bulk', clusterIP: vip, port }), slice('bulk', [{ ip: `${p}.101`, port: bport }]));
    const c = net.connect({ host: vip, port });
    let got = 0;
    let removed = false;
    const done = new Promise<void>((resolve, reject) => {
      c.on('data', (d: Buffer) => {
        got += d.length;
        if (!removed && got > total / 4) {
          removed = true;
          c.pause();
          // the endpoint leaves (and the Service has no endpoints left): new connections are refused
          void h.apply(slice('bulk', [])).then(async () => {
            await assert.rejects(whoAnswers(vip, port));
            c.resume();
          }, reject);
        }
      });
      c.on('end', resolve);
      c.on('error', reject);
    });
    await done;
    assert.equal(removed, true);
    assert.equal(got, total);
  });

  it('a Service that leaves closes its listener at once and its connections after the grace period', async () => {
    const srv = await tcpBackend('a', `${p}.102`, bport);
    closers.push(() => closeServer(srv));
    const h = new Harness({}, { serviceGraceMs: 400 });
    closers.push(() => h.close());
    const vip = `${p}.2`;
    const other = `${p}.3`;
    await h.apply(service({ name: 'going', clusterIP: vip, port }), slice('going', [{ ip: `${p}.102`, port: bport }]), service({ name: 'staying', clusterIP: other, port }));
    await h.apply({
      ...(slice('going', [{ ip: `${p}.102`, port: bport }]) as { metadata: object }),
      metadata: { name: 'staying-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'staying' } },
    });
    const c = net.connect({ host: vip, port });
    let closedAt = 0;
    c.on('close', () => (closedAt = Date.now()));
    c.on('error', () => {});
    await new Promise((r) => c.once('data', r));
    const staying = net.connect({ host: other, port });
    await new Promise((r) => staying.once('data', r));
    const t0 = Date.now();
    await h.remove('Service', 'going');
    assert.deepEqual(h.dataplane.listeners(), [`TCP/${other}/${port}`]);
    await assert.rejects(whoAnswers(vip, port), /ECONNREFUSED/);
    // still open within the grace period, and still carrying data
    await sleep(150);
    assert.equal(closedAt, 0);
    const echoed = new Promise((r) => c.once('data', r));
    c.write('ping');
    assert.equal(String(await echoed), 'ping');
    await sleep(600);
    assert.ok(closedAt > 0 && closedAt - t0 >= 350, `closed after ${closedAt - t0} ms`);
    // the other Service's connection was never touched
    assert.equal(staying.destroyed, false);
    staying.destroy();
    assert.equal(await whoAnswers(other, port), 'a');
  });

  it('NodePorts listen on the local addresses of nodePortAddresses and use the external endpoints', async () => {
    const srv = await tcpBackend('np', `${p}.103`, bport);
    closers.push(() => closeServer(srv));
    const h = new Harness({ nodePortAddresses: ['127.0.0.0/8'] });
    closers.push(() => h.close());
    const nodePort = 30000 + Math.floor(Math.random() * 2700);
    await h.apply(service({ name: 'np', clusterIP: `${p}.4`, port, type: 'NodePort', nodePort }), slice('np', [{ ip: `${p}.103`, port: bport }]));
    assert.ok(h.dataplane.listeners().includes(`TCP/127.0.0.1/${nodePort}`), String(h.dataplane.listeners()));
    assert.equal(await whoAnswers('127.0.0.1', nodePort), 'np');
    await sleep(10);
  });
});
