// Worker processes sharing the TCP listeners (KPROXY_USERSPACE_WORKERS / options.workers).
import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Harness, closeServer, holdOpen, net127, randomPort, service, slice, sleep, tcpBackend, whoAnswers } from './helpers.js';

describe('userspace proxy with worker processes', () => {
  const p = net127();
  const bport = randomPort();
  const port = randomPort();
  const ips = [`${p}.101`, `${p}.102`, `${p}.103`];
  let servers: net.Server[] = [];
  let h: Harness;
  before(async () => {
    servers = await Promise.all(ips.map((ip, i) => tcpBackend(`b${i}`, ip, bport)));
    h = new Harness({}, { workers: 2, serviceGraceMs: 200 });
    await h.dataplane.workersReady();
  });
  after(async () => {
    await h.close();
    await Promise.all(servers.map(closeServer));
  });

  it('connections spread over the processes, all served; counters come back to the primary', async () => {
    const vip = `${p}.1`;
    await h.apply(
      service({ name: 'w', clusterIP: vip, port }),
      slice(
        'w',
        ips.map((ip) => ({ ip, port: bport })),
      ),
    );
    await sleep(200); // the workers take the socket
    const held = await Promise.all(Array.from({ length: 90 }, () => holdOpen(vip, port)));
    await sleep(1500); // worker stats come once a second
    assert.equal(await h.metric('kproxy_userspace_tcp_connections'), 90);
    const primary = h.dataplane.metrics.live.tcpConnections;
    assert.ok(primary < 90, `the workers took some connections (the primary holds ${primary} of 90)`);
    for (const x of held) x.socket.destroy();
    // a dead backend: every connection still succeeds, and the workers' retries reach the primary
    await closeServer(servers[0]);
    try {
      const results = await Promise.all(Array.from({ length: 200 }, () => whoAnswers(vip, port)));
      assert.ok(
        results.every((r) => r === 'b1' || r === 'b2'),
        String(results),
      );
      await sleep(1500);
      assert.ok((await h.metric('kproxy_userspace_retries_total')) >= 1);
    } finally {
      servers[0] = await tcpBackend('b0', ips[0], bport);
    }
  });

  it('a Service with ClientIP affinity is served by the primary alone, so affinity holds', async () => {
    const vip = `${p}.2`;
    const sl = slice(
      'sticky',
      ips.map((ip) => ({ ip, port: bport })),
    );
    await h.apply(service({ name: 'sticky', clusterIP: vip, port, affinitySeconds: 60 }), sl);
    await sleep(200);
    const first = await whoAnswers(vip, port);
    const all = await Promise.all(Array.from({ length: 40 }, () => whoAnswers(vip, port)));
    assert.ok(
      all.every((x) => x === first),
      String(all),
    );
  });

  it('a Service that leaves stops accepting in every process', async () => {
    await h.remove('Service', 'w');
    await sleep(300);
    const all = await Promise.allSettled(Array.from({ length: 30 }, () => whoAnswers(`${p}.1`, port)));
    assert.ok(
      all.every((r) => r.status === 'rejected' && /ECONNREFUSED/.test(String(r.reason))),
      JSON.stringify(all.filter((r) => r.status === 'fulfilled')),
    );
  });
});
