import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { isStale, parseConntrackLine, udpServiceIndex } from '../../src/conntrack/entries.js';
import { ChangeTracker } from '../../src/model/tracker.js';

test('parses the original and reply tuples of a conntrack -L line', () => {
  const e = parseConntrackLine('udp      17 29 src=192.168.50.2 dst=10.96.0.53 sport=40000 dport=53 [UNREPLIED] src=10.244.1.11 dst=192.168.50.2 sport=5353 dport=40000 mark=0 use=1');
  assert.deepEqual(e, { origSrc: '192.168.50.2', origDst: '10.96.0.53', origSport: 40000, origDport: 53, replySrc: '10.244.1.11', replySport: 5353 });
  assert.equal(parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.'), null);
});

test('an entry is stale when it targets a UDP Service (address or NodePort) but not one of its serving endpoints', () => {
  const tracker = new ChangeTracker({ nodeName: 'node1', machineAddresses: ['192.168.50.1'] });
  tracker.upsert({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'd', name: 'dns' },
    spec: { type: 'NodePort', clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }] },
  } as never);
  tracker.upsert({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace: 'd', name: 'dns-1', labels: { 'kubernetes.io/service-name': 'dns' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.244.1.12'] }],
    ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
  } as never);
  const idx = udpServiceIndex(tracker.snapshot(), 'IPv4');
  const entry = (dst: string, dport: number, replySrc: string, replySport: number) => ({ origSrc: '192.168.50.2', origDst: dst, origSport: 40000, origDport: dport, replySrc, replySport });
  assert.equal(isStale(entry('10.96.0.53', 53, '10.244.1.11', 5353), idx), true, 'endpoint that left');
  assert.equal(isStale(entry('10.96.0.53', 53, '10.244.1.12', 5353), idx), false, 'serving endpoint');
  assert.equal(isStale(entry('10.96.0.53', 53, '10.96.0.53', 53), idx), true, 'never DNATed (created while there were no endpoints)');
  assert.equal(isStale(entry('192.168.50.1', 30053, '10.244.1.11', 5353), idx), true, 'NodePort');
  assert.equal(isStale(entry('192.168.50.1', 30053, '10.244.1.12', 5353), idx), false);
  assert.equal(isStale(entry('10.1.2.3', 53, '10.1.2.3', 53), idx), false, 'not a Service');
  assert.equal(isStale(entry('10.96.0.53', 54, '10.96.0.53', 54), idx), false, 'not a service port');
});
