import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { test } from 'node:test';
import { parse } from 'yaml';
import { healthCheckBody, ServiceHealthServers } from '../../src/health/servicehealth.js';
import { localReadyEndpointCount } from '../../src/model/stats.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';
import { CONFORMANCE_FILE, conformanceSkip } from '../helpers/conformance.js';

type Obj = Record<string, any>;

test('conformance healthCheckTests: only ready node-local endpoints make a Service healthy', { skip: conformanceSkip() }, () => {
  const data = parse(readFileSync(CONFORMANCE_FILE, 'utf8')) as { defaults: Obj; healthCheckTests: Obj[] };
  for (const tc of data.healthCheckTests) {
    if (!tc.backends.includes('nftables')) continue;
    const tracker = new ChangeTracker({ nodeName: tc.config?.nodeName ?? data.defaults.environment.nodeName });
    for (const step of tc.steps) {
      for (const o of step.apply ?? []) {
        const obj = structuredClone(o);
        // Upstream's unit test builds this Service port with only targetPort set, bypassing API
        // validation; our validator rightly rejects a port without `port`, so take targetPort.
        if (obj.kind === 'Service') for (const p of obj.spec.ports) p.port ??= p.targetPort;
        assert.equal(tracker.upsert(obj), null, `${tc.id}: ${obj.kind} ${obj.metadata.name} rejected`);
      }
      const state = tracker.snapshot();
      const healthy = [...state.services.values()].filter((s) => localReadyEndpointCount(state, s.namespace, s.name) > 0).length;
      assert.equal(healthy, step.expected.servicesWithLocalReadyEndpoints, `${tc.id}: ${step.description ?? 'step'}`);
    }
  }
});

function get(port: number): Promise<{ status: number; weight: string | undefined; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, weight: res.headers['x-load-balancing-endpoint-weight'] as string, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a healthCheckNodePort server answers 200/503 with the local ready endpoint count, as kube-proxy does', async () => {
  const port = 32000 + Math.floor(Math.random() * 700); // inside the NodePort range, as validation requires
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'ns1', name: 'lb' },
    spec: { type: 'LoadBalancer', clusterIP: '172.30.0.5', externalTrafficPolicy: 'Local', healthCheckNodePort: port, ports: [{ name: 'p80', port: 80, nodePort: 31000, protocol: 'TCP' }] },
  };
  const slice = (ready: boolean[]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'ns1', name: 'lb-1', labels: { 'kubernetes.io/service-name': 'lb' } },
    addressType: 'IPv4',
    endpoints: ready.map((r, i) => ({ addresses: [`10.0.0.${i + 1}`], nodeName: 'node1', conditions: { ready: r, serving: true, terminating: !r } })),
    ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
  });
  const tracker = new ChangeTracker({ nodeName: 'node1' });
  assert.equal(tracker.upsert(svc as never), null);
  tracker.upsert(slice([true, true, false]) as never);
  const servers = new ServiceHealthServers({ log: silentLogger(), host: '127.0.0.1' });
  try {
    await servers.update(tracker.snapshot());
    assert.deepEqual(servers.ports(), [port]);
    const ok = await get(port);
    assert.equal(ok.status, 200);
    assert.equal(ok.weight, '2');
    assert.equal(ok.type, 'application/json');
    assert.equal(ok.body, healthCheckBody('ns1', 'lb', 2, true));
    assert.deepEqual(JSON.parse(ok.body), { service: { namespace: 'ns1', name: 'lb' }, localEndpoints: 2, serviceProxyHealthy: true });

    tracker.upsert(slice([false, false]) as never); // serving but terminating: not healthy
    await servers.update(tracker.snapshot());
    const none = await get(port);
    assert.equal(none.status, 503);
    assert.equal(none.weight, '0');

    tracker.delete('Service', 'ns1', 'lb');
    await servers.update(tracker.snapshot());
    assert.deepEqual(servers.ports(), []);
    await assert.rejects(get(port), /ECONNREFUSED/);
  } finally {
    await servers.close();
  }
});
