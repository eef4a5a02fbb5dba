import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { nodePortAddresses, type NodePortAddressOptions } from '../../src/model/nodeports.js';

const candidates = ['127.0.0.1', '192.168.0.2', '192.168.1.2', '::1', '2001:db8::1', '2001:db8:1::2'];
const v4 = (o: Partial<NodePortAddressOptions> = {}): NodePortAddressOptions => ({ candidates, primaryIP: '192.168.0.2', default: 'primary', loopback: false, ...o });
const v6 = (o: Partial<NodePortAddressOptions> = {}): NodePortAddressOptions => v4({ primaryIP: '2001:db8::1', ...o });

test('empty list: the mode default (primary IP for nftables, every address for iptables/userspace)', () => {
  assert.deepEqual(nodePortAddresses([], 'IPv4', v4()), ['192.168.0.2']);
  assert.equal(nodePortAddresses([], 'IPv4', v4({ default: 'all' })), null);
  assert.deepEqual(nodePortAddresses([], 'IPv4', v4({ primaryIP: '' })), []);
});

test('CIDRs select the candidates inside them; the other family falls back to its default', () => {
  assert.deepEqual(nodePortAddresses(['192.168.0.0/24', '192.168.1.0/24', '2001:db8::/64'], 'IPv4', v4()), ['192.168.0.2', '192.168.1.2']);
  assert.deepEqual(nodePortAddresses(['192.168.0.0/24'], 'IPv6', v6()), ['2001:db8::1']);
  assert.deepEqual(nodePortAddresses(['primary'], 'IPv6', v6()), ['2001:db8::1']);
  assert.equal(nodePortAddresses(['0.0.0.0/0'], 'IPv4', v4()), null);
});

test('loopback accepts NodePorts only when the mode allows it', () => {
  assert.deepEqual(nodePortAddresses(['127.0.0.0/8'], 'IPv4', v4()), []);
  assert.deepEqual(nodePortAddresses(['127.0.0.0/8'], 'IPv4', v4({ loopback: true })), ['127.0.0.1']);
  assert.deepEqual(nodePortAddresses(['::1/128'], 'IPv6', v6({ loopback: true })), ['::1']);
});
