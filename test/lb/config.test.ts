// IPAddressPool and L2Advertisement validation: ranges and CIDRs, and an error naming the
// object and the field for each kind of mistake.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refuseOverlaps, validateL2Advertisement, validatePool } from '../../src/lb/config.js';
import { parseAddresses } from '../../src/lb/pool.js';

const pool = (spec: Record<string, unknown>, name = 'p') => validatePool({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: 'metallb-system' }, spec });

test('pool addresses: CIDRs count every address, ranges are inclusive, avoidBuggyIPs drops .0 and .255', () => {
  const a = pool({ addresses: ['192.168.10.0/24', '10.0.0.5-10.0.0.9', 'fd00::/120'] });
  assert.ok(a.ok);
  assert.equal(a.value.addresses.size('IPv4'), 256 + 5);
  assert.equal(a.value.addresses.size('IPv6'), 256);
  assert.ok(a.value.addresses.contains('192.168.10.0') && a.value.addresses.contains('10.0.0.9') && !a.value.addresses.contains('10.0.0.10'));
  assert.equal(a.value.autoAssign, true);
  const b = pool({ addresses: ['192.168.10.0/23', '10.0.0.250-10.0.1.3'], avoidBuggyIPs: true, autoAssign: false });
  assert.ok(b.ok);
  // /23: 512 minus .0 and .255 of two blocks; the range 10.0.0.250..10.0.1.3 (10 addresses) loses 10.0.0.255 and 10.0.1.0.
  assert.equal(b.value.addresses.size('IPv4'), 512 - 4 + 10 - 2);
  assert.ok(!b.value.addresses.contains('192.168.11.255') && !b.value.addresses.contains('10.0.1.0') && b.value.addresses.contains('10.0.1.1'));
  assert.equal(
    b.value.addresses.first('IPv4', () => true),
    '192.168.10.1',
  );
  assert.equal(b.value.autoAssign, false);
});

test('pool mistakes are reported with the object and the field', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{}, 'spec.addresses', /required/],
    [{ addresses: ['192.168.1.0/33'] }, 'spec.addresses[0]', /not a valid CIDR/],
    [{ addresses: ['10.0.0.9-10.0.0.1'] }, 'spec.addresses[0]', /last address comes before/],
    [{ addresses: ['10.0.0.1-fd00::1'] }, 'spec.addresses[0]', /mixes IPv4 and IPv6/],
    [{ addresses: ['10.0.0.1'] }, 'spec.addresses[0]', /neither a CIDR/],
    [{ addresses: ['10.0.0.0/24', '10.0.0.5-10.0.0.6'] }, 'spec.addresses[1]', /overlaps spec.addresses\[0\]/],
    [{ addresses: ['10.0.0.0/24'], autoAssign: 'yes' }, 'spec.autoAssign', /true or false/],
    [
      { addresses: ['10.0.0.0/24'], serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Is' }] }] } },
      'spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].operator',
      /In, NotIn/,
    ],
  ];
  for (const [spec, field, reason] of cases) {
    const r = pool(spec);
    assert.ok(!r.ok, JSON.stringify(spec));
    assert.equal(r.error.kind, 'IPAddressPool');
    assert.equal(`${r.error.namespace}/${r.error.name}`, 'metallb-system/p');
    assert.equal(r.error.field, field, JSON.stringify(spec));
    assert.match(r.error.reason, reason);
  }
  assert.equal(parseAddresses('192.168.1.1-192.168.1.1').toString(), '[object Object]');
});

test('overlapping pools: the later one is refused, with a reason naming the earlier', () => {
  const a = pool({ addresses: ['10.0.0.0/24'] }, 'a');
  const b = pool({ addresses: ['10.0.0.128-10.0.1.5'] }, 'b');
  assert.ok(a.ok && b.ok);
  const r = refuseOverlaps([b.value, a.value]);
  assert.deepEqual(
    r.pools.map((p) => p.name),
    ['a'],
  );
  assert.equal(r.errors[0].name, 'b');
  assert.match(r.errors[0].reason, /overlaps IPAddressPool metallb-system\/a/);
});

test('L2Advertisement: fields parsed, mistakes named', () => {
  const ok = validateL2Advertisement({
    kind: 'L2Advertisement',
    metadata: { name: 'l2', namespace: 'm' },
    spec: { ipAddressPools: ['a'], nodeSelectors: [{ matchLabels: { role: 'edge' } }], interfaces: ['eth0'] },
  });
  assert.ok(ok.ok);
  assert.deepEqual(ok.value.interfaces, ['eth0']);
  const bad = validateL2Advertisement({ kind: 'L2Advertisement', metadata: { name: 'l2', namespace: 'm' }, spec: { interfaces: ['eth 0'] } });
  assert.ok(!bad.ok);
  assert.equal(bad.error.field, 'spec.interfaces[0]');
  const bad2 = validateL2Advertisement({ kind: 'L2Advertisement', metadata: { name: 'l2', namespace: 'm' }, spec: { nodeSelectors: [{ matchLabels: { a: 1 } }] } });
  assert.ok(!bad2.ok);
  assert.equal(bad2.error.field, 'spec.nodeSelectors[0].matchLabels.a');
});
