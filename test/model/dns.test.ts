// The model's DNS view: what the cluster DNS publishes per Service, with the readiness rules
// applied here rather than in the DNS server.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ChangeTracker } from '../../src/model/tracker.js';
import { service, slice } from '../helpers/objects.js';

const ports = [{ name: 'http', port: 8080 }];

test('headless: ready endpoints only, unless publishNotReadyAddresses; endpoint ports from the slice', () => {
  const t = new ChangeTracker({ nodeName: 'n1' });
  t.upsert(service('ns', 'h', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
  t.upsert(
    slice(
      'ns',
      'h',
      'h-1',
      [
        { ip: '10.0.0.1', hostname: 'a' },
        { ip: '10.0.0.2', ready: false },
      ],
      ports,
    ),
  );
  let view = t.snapshot().dns.get('ns/h')!;
  assert.equal(view.kind, 'Headless');
  assert.deepEqual(view.kind === 'Headless' && view.endpoints, [{ hostname: 'a', addresses: ['10.0.0.1'], ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }]);
  t.upsert(service('ns', 'h', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'http', port: 80 }] }));
  view = t.snapshot().dns.get('ns/h')!;
  assert.deepEqual(view.kind === 'Headless' && view.endpoints.map((e) => e.addresses[0]), ['10.0.0.1', '10.0.0.2']);
});

test('ClusterIP and ExternalName views; unchanged views are shared between snapshots; deleted ones go', () => {
  const t = new ChangeTracker({ nodeName: 'n1' });
  t.upsert(service('ns', 'c', { clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80 }] }));
  t.upsert(service('ns', 'x', { type: 'ExternalName', externalName: 'example.com' }));
  const s1 = t.snapshot();
  assert.deepEqual(s1.dns.get('ns/c'), { kind: 'ClusterIP', namespace: 'ns', name: 'c', clusterIPs: ['10.96.0.1'], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] });
  assert.deepEqual(s1.dns.get('ns/x'), { kind: 'ExternalName', namespace: 'ns', name: 'x', externalName: 'example.com' });
  t.upsert(service('ns', 'other', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] }));
  const s2 = t.snapshot();
  assert.equal(s2.dns.get('ns/c'), s1.dns.get('ns/c'), 'the same object: the DNS zone skips it');
  const other = s2.dns.get('ns/other')!;
  assert.deepEqual(other.kind === 'ClusterIP' && other.ports, [], 'an unnamed port has no SRV record');
  t.delete('Service', 'ns', 'x');
  assert.equal(t.snapshot().dns.has('ns/x'), false);
});
