// A Service is validated as defined, before allocation, and what allocation writes into it
// (cluster IPs, their families, node ports, the health check port) is checked again: values
// the definition's validation never saw. A written value the API server would refuse still
// refuses the Service, with the error the whole check gives; a held address written in a
// non-canonical form is still read canonically.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ChangeTracker } from '../../../src/model/tracker.js';
import { allocationsPath } from '../../../src/sources/allocate/state.js';
import { startOnce } from './start-once.js';

const services = `
apiVersion: v1
kind: Service
metadata: {name: single, namespace: a}
spec: {ipFamilyPolicy: SingleStack, ipFamilies: [IPv4, IPv6], ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: held-port, namespace: a}
spec: {type: NodePort, ports: [{port: 53, protocol: UDP}]}
---
apiVersion: v1
kind: Service
metadata: {name: held-hc, namespace: a}
spec: {type: LoadBalancer, externalTrafficPolicy: Local, ports: [{port: 84}]}
---
apiVersion: v1
kind: Service
metadata: {name: held-ip, namespace: a}
spec: {ports: [{port: 85}]}
---
apiVersion: v1
kind: Service
metadata: {name: good, namespace: a}
spec: {type: NodePort, ipFamilyPolicy: PreferDualStack, ports: [{port: 86}]}
`;

// Hand-edited holdings: a node port and a health check port that are not integers, an
// address with leading zeros (read as 127.96.0.10).
const held = {
  version: 1,
  services: {
    'a/held-port': { clusterIPs: ['127.96.5.5'], nodePorts: { '53': 30053.5 }, healthCheckNodePort: 0 },
    'a/held-hc': { clusterIPs: ['127.96.5.6'], nodePorts: { '84': 30084 }, healthCheckNodePort: 30000.25 },
    'a/held-ip': { clusterIPs: ['127.96.000.010'], nodePorts: {}, healthCheckNodePort: 0 },
  },
};

test('values allocation writes in are checked: wrong ones refuse the Service, as the whole validation does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-written-'));
  try {
    writeFileSync(join(dir, 'services.yaml'), services);
    const state = allocationsPath(dir);
    mkdirSync(dirname(state), { recursive: true });
    writeFileSync(state, JSON.stringify(held));
    const tracker = new ChangeTracker({ nodeName: 'n', machineAddresses: ['127.0.0.1'] });
    startOnce(dir, tracker, ['127.96.0.0/16', 'fd00:96::/112']);
    const s = tracker.snapshot();

    const errors = new Map(s.errors.map((e) => [e.name, `${e.field}: ${e.reason}`]));
    assert.deepEqual(Object.fromEntries(errors), {
      single: 'spec.ipFamilyPolicy: SingleStack allows one cluster IP; use PreferDualStack or RequireDualStack',
      'held-port': 'spec.ports[0].nodePort: expected an integer, got 30053.5',
      'held-hc': 'spec.healthCheckNodePort: expected an integer, got 30000.25',
    });
    const refused = ['single', 'held-port', 'held-hc'];
    for (const name of refused) assert.equal(s.services.get(`a/${name}`), undefined, `${name} is not a Service the model has`);
    assert.deepEqual(s.services.get('a/held-ip')?.clusterIPs, ['127.96.0.10']);
    const good = s.services.get('a/good');
    assert.equal(good?.clusterIPs.length, 2);
    assert.deepEqual(good?.ipFamilies, ['IPv4', 'IPv6']);
    assert.ok(good && good.ports[0].nodePort >= 30000 && good.ports[0].nodePort <= 32767);
    // The state file keeps what was allocated (the model refused the object, not the allocation).
    const saved = JSON.parse(readFileSync(state, 'utf8')) as typeof held;
    assert.equal(saved.services['a/held-port'].nodePorts['53'], 30053.5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
