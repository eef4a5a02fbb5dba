// Health-check node ports listen only where NodePorts are accepted: on the node IPs that
// --nodeport-addresses selects, as kube-proxy binds them, not on every address.
import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { test } from 'node:test';
import { healthCheckAddresses } from '../../src/health/listen-addresses.js';
import { ServiceHealthServers } from '../../src/health/servicehealth.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';

const candidates = ['127.0.0.1', '10.1.2.3', '192.168.5.9', '::1', 'fd00::7'];

test('the addresses a health-check node port binds, from --nodeport-addresses', () => {
  assert.equal(healthCheckAddresses([], candidates), null, 'empty: every address');
  assert.deepEqual(healthCheckAddresses(['127.0.0.0/8'], candidates), ['127.0.0.1']);
  assert.deepEqual(healthCheckAddresses(['10.0.0.0/8', '192.168.0.0/16'], candidates), ['10.1.2.3', '192.168.5.9']);
  assert.deepEqual(healthCheckAddresses(['10.0.0.0/8', 'fd00::/64'], candidates), ['10.1.2.3', 'fd00::7']);
  assert.deepEqual(healthCheckAddresses(['0.0.0.0/0'], candidates), ['0.0.0.0'], 'a /0: every address of that family');
  assert.equal(healthCheckAddresses(['0.0.0.0/0', '::/0'], candidates), null);
  assert.deepEqual(healthCheckAddresses(['primary'], candidates, { primaryIPv4: '10.1.2.3', primaryIPv6: '' }), ['10.1.2.3']);
  assert.deepEqual(healthCheckAddresses(['172.16.0.0/12'], candidates), [], 'nothing matches: nothing to bind');
});

const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, host);
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });

test('with --nodeport-addresses 127.0.0.0/8 the port listens on 127.0.0.1 only, not on every address', async () => {
  const port = 32000 + Math.floor(Math.random() * 700);
  const tracker = new ChangeTracker({ nodeName: 'node1' });
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'ns1', name: 'lb' },
    spec: { type: 'LoadBalancer', clusterIP: '172.30.0.5', externalTrafficPolicy: 'Local', healthCheckNodePort: port, ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
  };
  assert.equal(tracker.upsert(svc as never), null);
  const servers = new ServiceHealthServers({ log: silentLogger(), nodePortAddresses: ['127.0.0.0/8'], interfaceAddresses: () => candidates });
  try {
    await servers.update(tracker.snapshot());
    assert.deepEqual(servers.listening(), [`127.0.0.1:${port}`]);
    assert.equal(await reachable('127.0.0.1', port), true);
    // 127.0.0.2 is a local address too: a listener on 0.0.0.0 or :: would accept it.
    assert.equal(await reachable('127.0.0.2', port), false, 'the port is not open on every address');
  } finally {
    await servers.close();
  }
});

test('a port that cannot bind one of its addresses keeps none of them, and is logged', async () => {
  const port = 32000 + Math.floor(Math.random() * 700);
  const errors: string[] = [];
  const log = silentLogger();
  log.error = ((o: unknown, msg?: string) => errors.push(`${msg} ${JSON.stringify(o)}`)) as never;
  const tracker = new ChangeTracker({ nodeName: 'node1' });
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'ns1', name: 'lb' },
    spec: { type: 'LoadBalancer', clusterIP: '172.30.0.5', externalTrafficPolicy: 'Local', healthCheckNodePort: port, ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
  };
  assert.equal(tracker.upsert(svc as never), null);
  // 10.1.2.3 is not an address of this machine: binding it fails (EADDRNOTAVAIL).
  const servers = new ServiceHealthServers({ log, nodePortAddresses: ['127.0.0.0/8', '10.0.0.0/8'], interfaceAddresses: () => candidates });
  try {
    await servers.update(tracker.snapshot());
    assert.deepEqual(servers.listening(), []);
    assert.equal(await reachable('127.0.0.1', port), false, 'the listener opened before the failure was closed');
    assert.match(errors.join('\n'), /cannot open healthCheckNodePort.*ns1\/lb/);
  } finally {
    await servers.close();
  }
});

test('in nftables mode an empty --nodeport-addresses means the primary IP, as kube-proxy defaults it', async () => {
  const { serviceHealthAddon } = await import('../../src/health/servicehealth-addon.js');
  const { defaultConfig } = await import('../../src/config/load.js');
  const port = 32000 + Math.floor(Math.random() * 700);
  const tracker = new ChangeTracker({ nodeName: 'node1', nodeIPOverride: ['127.0.0.1'] });
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'ns1', name: 'lb' },
    spec: { type: 'LoadBalancer', clusterIP: '172.30.0.5', externalTrafficPolicy: 'Local', healthCheckNodePort: port, ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
  };
  assert.equal(tracker.upsert(svc as never), null);
  const config = { ...defaultConfig(), mode: 'nftables', nodePortAddresses: [] } as never;
  const addon = (await serviceHealthAddon({ config, log: silentLogger(), metrics: undefined as never }))!;
  try {
    addon.update(tracker.snapshot());
    const t0 = Date.now();
    while (!(await reachable('127.0.0.1', port)) && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await reachable('127.0.0.1', port), true, 'listening on the primary IP');
    assert.equal(await reachable('127.0.0.2', port), false, 'and on no other address');
  } finally {
    await addon.close();
  }
});
