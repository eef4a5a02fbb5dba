// /rules renders a ruleset once, not once per request; answers gzip when asked; and a
// crowd of requests is turned away beyond the concurrency limit instead of piling up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { rulesRoute } from '../../src/rules/page.js';
import { RulesetStore } from '../../src/rules/store.js';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

/** A client that sends a request and stops reading once the answer has begun. */
function holdOpen(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET /rules HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.once('data', () => {
      s.pause();
      resolve(s);
    });
  });
}

test('/rules renders once per applied ruleset, gzips, and turns away requests beyond the limit', async () => {
  const store = new RulesetStore();
  let renders = 0;
  const line = 'add element ip kproxy service-ips { 10.96.0.1 . tcp . 80 : goto service-ABCDEFGH-ns/name/tcp/http }\n';
  const big = line.repeat(30_000); // ~3 MB
  const publish = (generation: number) => store.publish({ mode: 'nftables', appliedAt: new Date(), generation, node: 'n', nodeAddresses: [], render: () => (renders++, big) });
  publish(1);
  const server = await startMetricsServer('127.0.0.1:0', new ProxyMetrics({ processMetrics: false }), { '/rules': rulesRoute(store, { concurrency: 4 }) });
  const { port } = server.address() as AddressInfo;
  try {
    // Twenty parallel requests: one render; beyond four at once, 503 with Retry-After.
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => get(port, i % 2 ? '/rules' : '/rules?format=json', { 'Accept-Encoding': 'gzip' })));
    assert.equal(renders, 1, 'rendered once for both variants and all requests');
    const ok = all.filter((r) => r.status === 200);
    const busy = all.filter((r) => r.status === 503);
    assert.ok(ok.length >= 4, `${ok.length} answered`);
    assert.equal(ok.length + busy.length, 20);
    for (const r of busy) assert.equal(r.headers['retry-after'], '1');
    const one = ok.find((r) => !String(r.body.subarray(0, 1)).startsWith('{') && r.headers['content-type'] !== 'application/json')!;
    assert.equal(one.headers['content-encoding'], 'gzip');
    assert.ok(one.body.length < big.length / 20, `compressed to ${one.body.length} bytes`);
    assert.ok(gunzipSync(one.body).toString().endsWith(big));
    // Without gzip: the plain text; a new ruleset is rendered once more.
    const plain = await get(port, '/rules');
    assert.ok(plain.body.toString().endsWith(big));
    assert.equal(renders, 1);
    publish(2);
    await get(port, '/rules');
    await get(port, '/rules');
    assert.equal(renders, 2);
    // Sequential requests are never turned away (every slot is given back).
    for (let i = 0; i < 6; i++) assert.equal((await get(port, '/rules', { 'Accept-Encoding': 'gzip' })).status, 200);
    // Four clients that ask for 30 MB and do not read hold every slot: the fifth is turned away
    // at once; when they hang up, the slots come back.
    store.publish({ mode: 'nftables', appliedAt: new Date(), generation: 3, node: 'n', nodeAddresses: [], render: () => line.repeat(300_000) });
    const held = await Promise.all(Array.from({ length: 4 }, () => holdOpen(port)));
    const turned = await get(port, '/rules', { 'Accept-Encoding': 'gzip' });
    assert.equal(turned.status, 503);
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await get(port, '/rules', { 'Accept-Encoding': 'gzip' })).status, 200);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
