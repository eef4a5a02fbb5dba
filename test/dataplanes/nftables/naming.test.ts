import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { base32, endpointBase, hash8, hashedName, serviceBase } from '../../../src/dataplanes/nftables/naming.js';

// Vectors verified against upstream (../shared/conformance/NOTES.md §6).
test('hash8 reproduces upstream nftables chain-name hashes', () => {
  assert.equal(hash8('ns1/svc1/tcp/p80'), 'ULMVA6XW');
  assert.equal(hash8('ns1/svc1/tcp/p80__10.180.0.1/80'), '5OJB2KTY');
  assert.equal(hash8('ns5/svc5/tcp/p80__10.180.0.3/80'), 'GTK6MW7G');
  assert.equal(hash8('testing/service/tcp/http'), 'P4ZYZVCF');
  assert.equal(hash8('testing/service/tcp/http__fd80.abcd.12..a1b2.c3d4.e5f6.9999/80'), 'U7E2ET36');
});

test('service and endpoint bases are built as upstream builds them', () => {
  const sp = { namespace: 'ns1', name: 'svc1', protocol: 'TCP' as const, portName: 'p80' };
  assert.equal(serviceBase(sp), 'ULMVA6XW-ns1/svc1/tcp/p80');
  assert.equal(endpointBase(sp, { ip: '10.180.0.1', port: 80 }), '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  const v6 = { namespace: 'testing', name: 'service', protocol: 'TCP' as const, portName: 'http' };
  assert.equal(endpointBase(v6, { ip: 'fd80:abcd:12::a1b2:c3d4:e5f6:9999', port: 80 }), 'U7E2ET36-testing/service/tcp/http__fd80.abcd.12..a1b2.c3d4.e5f6.9999/80');
  assert.equal(serviceBase({ ...sp, portName: '' }), `${hash8('ns1/svc1/tcp/')}-ns1/svc1/tcp/`);
});

test('long names are cut to 240 characters, the hash covering the full name', () => {
  const long = 'a'.repeat(63) + '/' + 'b'.repeat(63) + '/tcp/' + 'c'.repeat(15) + '__' + '1.2.3.4/80' + 'x'.repeat(150);
  const n = hashedName(long);
  assert.equal(n.length, 240);
  assert.ok(n.endsWith('...'));
  assert.ok(n.startsWith(hash8(long) + '-'));
  assert.equal(hashedName('ns/a/tcp/p'), `${hash8('ns/a/tcp/p')}-ns/a/tcp/p`);
});

test('base32 is RFC 4648', () => {
  assert.equal(base32(Buffer.from('foobar')), 'MZXW6YTBOI');
  assert.equal(base32(Buffer.from('f')), 'MY');
});
