import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeTracker } from '../../src/model/tracker.js';
import { node, service, slice } from '../helpers/objects.js';

const eps = (l: readonly { endpoint: string }[] | null) => (l ?? []).map((e) => e.endpoint);

describe('ChangeTracker', () => {
  it('coalesces any number of events into one diff at snapshot time', () => {
    const t = new ChangeTracker({ nodeName: 'n1' });
    t.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ name: 'http', port: 80 }] }));
    t.upsert(service('ns', 'b', { clusterIP: '10.96.0.2', ports: [{ port: 53, protocol: 'UDP' }] }));
    for (let i = 0; i < 5; i++) t.upsert(slice('ns', 'a', 'a-1', [{ ip: `10.0.0.${i + 1}` }], [{ name: 'http', port: 8080 }]));
    const s1 = t.snapshot();
    assert.deepEqual([...s1.changed].sort(), ['ns/a:http/TCP/IPv4', 'ns/b:/UDP/IPv4']);
    assert.deepEqual(eps(s1.servicePorts.get('ns/a:http/TCP/IPv4')!.clusterEndpoints), ['10.0.0.5:8080']);
    assert.equal(t.changeCounts().endpointChangesTotal, 5);

    // An unrelated slice change leaves the other service port object untouched.
    t.upsert(slice('ns', 'a', 'a-1', [{ ip: '10.0.0.9' }], [{ name: 'http', port: 8080 }]));
    const s2 = t.snapshot();
    assert.deepEqual([...s2.changed], ['ns/a:http/TCP/IPv4']);
    assert.equal(s2.servicePorts.get('ns/b:/UDP/IPv4'), s1.servicePorts.get('ns/b:/UDP/IPv4'));

    // No change at all: an empty diff.
    t.upsert(slice('ns', 'a', 'a-1', [{ ip: '10.0.0.9' }], [{ name: 'http', port: 8080 }]));
    const s3 = t.snapshot();
    assert.equal(s3.changed.size, 0);
    assert.equal(s3.generation, s2.generation + 1);

    t.delete('Service', 'ns', 'b');
    const s4 = t.snapshot();
    assert.deepEqual([...s4.deleted], ['ns/b:/UDP/IPv4']);
    assert.equal(s4.servicePorts.has('ns/b:/UDP/IPv4'), false);
  });

  it('keeps the last valid version of an object when an update is invalid, and reports it', () => {
    const t = new ChangeTracker({ nodeName: 'n1' });
    t.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    t.snapshot();
    const err = t.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 0 }] }));
    assert.equal(err?.field, 'spec.ports[0].port');
    const s = t.snapshot();
    assert.equal(s.servicePorts.get('ns/a:/TCP/IPv4')?.port, 80);
    assert.equal(s.errors.length, 1);
    t.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 81 }] }));
    const fixed = t.snapshot();
    assert.equal(fixed.errors.length, 0);
    assert.equal(fixed.servicePorts.get('ns/a:/TCP/IPv4')?.port, 81);
  });

  it('splits dual-stack Services by family, each with its own slices', () => {
    const t = new ChangeTracker({ nodeName: 'n1' });
    t.upsert(service('ns', 'd', { clusterIPs: ['10.96.0.5', 'fd00:96::5'], ipFamilyPolicy: 'PreferDualStack', externalIPs: ['1.2.3.4', '2001:db8::9'], ports: [{ port: 80 }] }));
    t.upsert(slice('ns', 'd', 'd-v4', [{ ip: '10.0.0.1' }], [{ port: 8080 }]));
    t.upsert(slice('ns', 'd', 'd-v6', [{ ip: 'fd00:10::1' }], [{ port: 8080 }], 'IPv6'));
    const s = t.snapshot();
    const v4 = s.servicePorts.get('ns/d:/TCP/IPv4')!;
    const v6 = s.servicePorts.get('ns/d:/TCP/IPv6')!;
    assert.deepEqual([v4.clusterIP, v6.clusterIP], ['10.96.0.5', 'fd00:96::5']);
    assert.deepEqual([v4.externalIPs, v6.externalIPs], [['1.2.3.4'], ['2001:db8::9']]);
    assert.deepEqual([eps(v4.clusterEndpoints), eps(v6.clusterEndpoints)], [['10.0.0.1:8080'], ['[fd00:10::1]:8080']]);
  });

  it('matches slice ports by name and protocol and prefers the ready copy of a duplicate endpoint', () => {
    const t = new ChangeTracker({ nodeName: 'n1' });
    t.upsert(
      service('ns', 'm', {
        clusterIP: '10.96.0.7',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      }),
    );
    t.upsert(slice('ns', 'm', 'm-a', [{ ip: '10.0.0.1', ready: false }], [{ name: 'dns', port: 5353, protocol: 'UDP' }]));
    t.upsert(
      slice(
        'ns',
        'm',
        'm-b',
        [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
        [
          { name: 'dns', port: 5353, protocol: 'UDP' },
          { name: 'dns-tcp', port: 5354, protocol: 'TCP' },
        ],
      ),
    );
    const s = t.snapshot();
    assert.deepEqual(eps(s.servicePorts.get('ns/m:dns/UDP/IPv4')!.clusterEndpoints), ['10.0.0.1:5353', '10.0.0.2:5353']);
    assert.deepEqual(eps(s.servicePorts.get('ns/m:dns-tcp/TCP/IPv4')!.clusterEndpoints), ['10.0.0.1:5354', '10.0.0.2:5354']);
  });

  it('keeps one copy of an endpoint listed more than once: the first ready one listed, else the first; in address order', () => {
    const t = new ChangeTracker({ nodeName: 'n1' });
    t.upsert(service('ns', 'd', { clusterIP: '10.96.0.8', ports: [{ name: 'http', port: 80 }] }));
    const http = [{ name: 'http', port: 8080 }];
    t.upsert(slice('ns', 'd', 'd-a', [{ ip: '10.0.0.9', ready: false, serving: false, hostname: 'a1' }, { ip: '10.0.0.2', ready: false, hostname: 'a2' }, { ip: '10.0.0.10' }], http));
    t.upsert(
      slice(
        'ns',
        'd',
        'd-b',
        [
          { ip: '10.0.0.2', ready: false, hostname: 'b2' },
          { ip: '10.0.0.9', ready: false, serving: true, hostname: 'b1' },
          { ip: '10.0.0.9', hostname: 'b3' },
        ],
        http,
      ),
    );
    const all = t.snapshot().servicePorts.get('ns/d:http/TCP/IPv4')!.endpoints;
    assert.deepEqual(
      all.map((e) => `${e.endpoint} ${e.hostname}`),
      ['10.0.0.2:8080 a2', '10.0.0.9:8080 b3', '10.0.0.10:8080 '],
    );
  });

  it('recomputes every service when this node changes (zone hints depend on it)', () => {
    const t = new ChangeTracker({ nodeName: 'n1' });
    t.upsert(service('ns', 'z', { clusterIP: '10.96.0.8', ports: [{ port: 80 }] }));
    t.upsert(
      slice(
        'ns',
        'z',
        'z-1',
        [
          { ip: '10.0.0.1', zoneHints: ['a'] },
          { ip: '10.0.0.2', zoneHints: ['b'] },
        ],
        [{ port: 80 }],
      ),
    );
    assert.deepEqual(eps(t.snapshot().servicePorts.get('ns/z:/TCP/IPv4')!.clusterEndpoints), ['10.0.0.1:80', '10.0.0.2:80']);
    t.upsert(node('n1', { 'topology.kubernetes.io/zone': 'b' }, ['192.168.0.2']));
    const s = t.snapshot();
    assert.deepEqual(eps(s.servicePorts.get('ns/z:/TCP/IPv4')!.clusterEndpoints), ['10.0.0.2:80']);
    assert.deepEqual(s.node.addresses, ['192.168.0.2']);
    assert.equal(s.node.zone, 'b');
    t.upsert(node('other-node', { 'topology.kubernetes.io/zone': 'a' }));
    assert.equal(t.snapshot().node.zone, 'b', 'other nodes do not concern this one');
  });

  it('moves a slice between services when its service-name label changes', () => {
    const t = new ChangeTracker({ nodeName: 'n1' });
    t.upsert(service('ns', 'a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }));
    t.upsert(service('ns', 'b', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] }));
    t.upsert(slice('ns', 'a', 'x', [{ ip: '10.0.0.1' }], [{ port: 80 }]));
    t.snapshot();
    t.upsert(slice('ns', 'b', 'x', [{ ip: '10.0.0.1' }], [{ port: 80 }]));
    const s = t.snapshot();
    assert.equal(s.servicePorts.get('ns/a:/TCP/IPv4')!.hasEndpoints, false);
    assert.equal(s.servicePorts.get('ns/b:/TCP/IPv4')!.hasEndpoints, true);
  });

  it('skips Services that belong to another proxy, and keeps headless/ExternalName for DNS only', () => {
    const t = new ChangeTracker({ nodeName: 'n1' });
    t.upsert(
      service('ns', 'other', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }, { metadata: { namespace: 'ns', name: 'other', labels: { 'service.kubernetes.io/service-proxy-name': 'cilium' } } }),
    );
    t.upsert(service('ns', 'h', { clusterIP: 'None', ports: [{ port: 80 }] }));
    t.upsert(service('ns', 'e', { type: 'ExternalName', externalName: 'example.com' }));
    const s = t.snapshot();
    assert.equal(s.servicePorts.size, 0);
    assert.deepEqual([...s.services.keys()].sort(), ['ns/e', 'ns/h']);
  });
});
