// Tables that an outsider can fill are bounded: UDP sessions, DNS TCP connections that
// never finish a query, HTTP connections to kproxy's own servers; and the open-files soft
// limit is raised to the hard limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { udpSessionBudget, DEFAULT_UDP_SESSION_LIMITS } from '../../src/dataplanes/userspace/udp-limits.js';
import { startHealthServer } from '../../src/health/server.js';
import { ProxierHealth } from '../../src/health/proxier.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { Harness, net127, randomPort, service, slice, udpBackend } from '../dataplanes/userspace/helpers.js';
import { startServer } from '../dns/helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('UDP sessions from many sources stay within the limit; the oldest idle make room for new clients', async () => {
  const p = net127();
  const vip = `${p}.1`;
  const port = randomPort();
  const backend = await udpBackend('a', `${p}.101`, randomPort());
  const bport = (backend.address() as AddressInfo).port;
  const h = new Harness({ udpIdleTimeoutMs: 60_000 });
  udpSessionBudget.set({ perListener: 20, total: 30 });
  const clients: dgram.Socket[] = [];
  try {
    await h.apply(service({ name: 'dns', clusterIP: vip, port, protocol: 'UDP' }), slice('dns', [{ ip: `${p}.101`, port: bport }], { protocol: 'UDP' }));
    // 200 sources (as spoofed sources would be: each its own address and port).
    for (let i = 0; i < 200; i++) {
      const c = dgram.createSocket('udp4');
      await new Promise<void>((r) => c.bind(0, `${p}.${2 + (i % 250)}`, () => r()));
      clients.push(c);
      c.send(`m${i}`, port, vip);
      if (i % 20 === 19) await sleep(10);
    }
    await sleep(200);
    assert.ok(udpSessionBudget.total <= 20, `${udpSessionBudget.total} sessions open`);
    // The newest client is served (room was made by ending an idle session).
    const last = clients[clients.length - 1];
    const reply = await new Promise<string>((res, rej) => {
      const t = setTimeout(() => rej(new Error('no reply')), 2000);
      last.once('message', (m) => (clearTimeout(t), res(String(m))));
      last.send('again', port, vip);
    });
    assert.equal(reply, 'a:again');
  } finally {
    udpSessionBudget.set(DEFAULT_UDP_SESSION_LIMITS);
    for (const c of clients) c.close();
    await h.close();
    backend.close();
  }
});

test('a DNS TCP client dripping one byte at a time is cut after the idle timeout', async () => {
  const dns = await startServer({ tcpIdleMs: 400 }, null);
  try {
    const s = connect(dns.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    let closed = false;
    s.on('close', () => (closed = true));
    s.on('error', () => {});
    s.write(Buffer.from([0x01, 0x00])); // a 256-byte query follows... one byte at a time
    const t0 = Date.now();
    while (!closed && Date.now() - t0 < 3000) {
      s.write(Buffer.from([0x41]));
      await sleep(100);
    }
    assert.ok(closed, 'the connection was cut');
    assert.ok(Date.now() - t0 < 1500, `cut after ${Date.now() - t0} ms`);
  } finally {
    await dns.close();
  }
});

test('/healthz holds at most 256 connections; unfinished requests cannot take every descriptor', async () => {
  const server = await startHealthServer('127.0.0.1:0', new ProxierHealth(60_000), new ProxyMetrics({ processMetrics: false }));
  const { port } = server.address() as AddressInfo;
  const socks: Socket[] = [];
  try {
    for (let i = 0; i < 320; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // headers never finished
      socks.push(s);
    }
    await sleep(500);
    const n = await new Promise<number>((r) => server.getConnections((_e, c) => r(c)));
    assert.ok(n <= 256, `${n} connections held`);
    assert.ok(server.headersTimeout > 0 && server.headersTimeout <= 10_000 && server.requestTimeout <= 30_000);
  } finally {
    for (const s of socks) s.destroy();
    await new Promise((r) => server.close(r));
  }
});

test('kproxy raises its open-files soft limit to the hard limit', () => {
  const mod = resolve(join(import.meta.dirname ?? '', '../../src/util/fdlimit.js'));
  const script = `import { raiseFdLimit, fdLimits } from ${JSON.stringify(mod)}; import { silentLogger } from ${JSON.stringify(mod.replace('fdlimit.js', 'log.js'))}; await raiseFdLimit(silentLogger()); console.log(JSON.stringify(fdLimits()));`;
  const out = execFileSync('prlimit', ['--nofile=200:4000', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), { soft: 4000, hard: 4000 });
});
