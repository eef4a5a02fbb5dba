// A gRPC readiness probe against a port that accepts TCP but never speaks HTTP/2 must close
// its connection when the probe times out: one leaked socket per attempt would use up the
// process's descriptors (50 such Pods exhausted a 1,024 limit in ~20 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { loadGrpcProbe } from '../../../src/sources/pods/grpc.js';

const openFds = () => readdirSync('/proc/self/fd').length;

test('gRPC probes of a silent TCP port time out and close every connection', async () => {
  const accepted: Socket[] = [];
  let closedByClient = 0;
  // Accepts, reads and never answers. It closes its side only once the client has closed its own.
  const silent = createServer((s) => {
    accepted.push(s);
    s.on('error', () => {});
    s.on('end', () => {
      closedByClient++;
      s.destroy();
    });
    s.resume();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as AddressInfo).port;
  try {
    const probe = (await loadGrpcProbe())!;
    const before = openFds();
    const N = 40;
    for (let i = 0; i < N; i++) {
      const out = await probe('127.0.0.1', port, '', 100);
      assert.equal(out.success, false);
      assert.match(out.detail, /DEADLINE_EXCEEDED/);
    }
    assert.equal(accepted.length, N, 'each probe connected');
    const t0 = Date.now();
    while (closedByClient < N && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(closedByClient, N, `every probe connection was closed by the prober (${closedByClient} of ${N})`);
    assert.ok(openFds() - before < 5, `open descriptors grew from ${before} to ${openFds()} over ${N} probes`);
  } finally {
    for (const s of accepted) s.destroy();
    silent.close();
  }
});
