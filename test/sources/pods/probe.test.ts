import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { httpProbe, tcpProbe } from '../../../src/sources/pods/probe.js';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, loadGrpcProbe } from '../../../src/sources/pods/grpc.js';
import { startBackend } from './helpers.js';

test('httpGet: 200-399 succeed, 400+ fail, headers and path are sent', async () => {
  const b = await startBackend();
  try {
    const target = { scheme: 'HTTP' as const, host: '127.0.0.1', port: b.port, path: '/ready?x=1', headers: [['Host', 'svc.example'] as const] };
    for (const [status, ok] of [
      [200, true],
      [302, true],
      [399, true],
      [400, false],
      [503, false],
    ] as const) {
      b.status = status;
      const o = await httpProbe(target, 1000);
      assert.equal(o.success, ok, `${status}: ${o.detail}`);
    }
    assert.equal(b.lastPath, '/ready?x=1');
    assert.equal(b.lastHeaders?.host, 'svc.example', 'an httpHeaders Host replaces the default');
  } finally {
    await b.close();
  }
});

test('a target that hangs fails at the timeout, not later', async () => {
  const b = await startBackend();
  b.status = 0; // accept, never answer
  const silent = createTcpServer(() => {}); // accepts, says nothing
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const t0 = performance.now();
    const o = await httpProbe({ scheme: 'HTTP', host: '127.0.0.1', port: b.port, path: '/', headers: [] }, 700);
    const took = performance.now() - t0;
    assert.equal(o.success, false);
    assert.match(o.detail, /timed out/);
    assert.ok(took >= 650 && took < 2000, `took ${took} ms for a 700 ms timeout`);
    const t1 = performance.now();
    const https = await httpProbe({ scheme: 'HTTPS', host: '127.0.0.1', port: (silent.address() as AddressInfo).port, path: '/', headers: [] }, 500);
    assert.equal(https.success, false);
    assert.ok(performance.now() - t1 < 1000, 'a TLS handshake that never comes is bounded too');
  } finally {
    silent.close();
    await b.close();
  }
});

test('tcpSocket: an open port succeeds, a closed one fails', async () => {
  const srv = createTcpServer((s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  assert.equal((await tcpProbe('127.0.0.1', port, 1000)).success, true);
  await new Promise((r) => srv.close(r));
  const o = await tcpProbe('127.0.0.1', port, 1000);
  assert.equal(o.success, false);
  assert.match(o.detail, /ECONNREFUSED/);
});

test('httpGet over HTTPS accepts a self-signed certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-probe-'));
  try {
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=pod.local'], {
        stdio: 'ignore',
      });
    } catch {
      t.skip('openssl is not installed (scripts/setup.sh installs it)');
      return;
    }
    const srv = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => res.writeHead(req.url === '/ok' ? 200 : 500).end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      assert.equal((await httpProbe({ scheme: 'HTTPS', host: '127.0.0.1', port, path: '/ok', headers: [] }, 2000)).success, true);
      assert.equal((await httpProbe({ scheme: 'HTTPS', host: '127.0.0.1', port, path: '/bad', headers: [] }, 2000)).success, false);
    } finally {
      srv.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('grpc: grpc.health.v1 SERVING succeeds, NOT_SERVING and unknown services fail', async () => {
  assert.deepEqual([...encodeHealthCheckRequest('db')], [0x0a, 2, 0x64, 0x62]);
  assert.equal(decodeHealthCheckResponse(Buffer.from([0x08, 0x01])), 1);
  const server = new grpc.Server();
  const statuses: Record<string, number> = { '': 1, db: 2 };
  server.addService(
    {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        // field 1, length-delimited: the service name (an object: grpc-js treats a falsy request as missing)
        requestDeserialize: (b: Buffer) => ({ service: b.length === 0 ? '' : b.subarray(2, 2 + b[1]).toString() }),
        responseSerialize: (s: number) => Buffer.from([0x08, s]),
        responseDeserialize: (b: Buffer) => b[1],
      },
    } as grpc.ServiceDefinition,
    {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, number>, cb: grpc.sendUnaryData<number>) => {
        const s = statuses[call.request.service];
        if (s === undefined) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        else cb(null, s);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  try {
    const probe = (await loadGrpcProbe())!;
    const serving = await probe('127.0.0.1', port, '', 1000);
    assert.equal(serving.success, true, serving.detail);
    const notServing = await probe('127.0.0.1', port, 'db', 1000);
    assert.equal(notServing.success, false);
    assert.match(notServing.detail, /NOT_SERVING/);
    assert.equal((await probe('127.0.0.1', port, 'nope', 1000)).success, false);
  } finally {
    server.forceShutdown();
  }
  const closed = await (await loadGrpcProbe())!('127.0.0.1', port, '', 500);
  assert.equal(closed.success, false);
});
