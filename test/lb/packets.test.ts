// ARP and neighbour discovery frames, byte for byte where it matters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arpReply, gratuitousArp, neighborAdvertFor, parseArp, parseNeighborSolicitation, unsolicitedNeighborAdvert } from '../../src/lb/l2/packets.js';

const NODE_MAC = '02:00:00:00:00:01';
const CLIENT_MAC = '02:00:00:00:00:99';

function arpRequest(): Buffer {
  const f = Buffer.alloc(42);
  Buffer.from('ffffffffffff', 'hex').copy(f, 0);
  Buffer.from(CLIENT_MAC.replace(/:/g, ''), 'hex').copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20);
  Buffer.from(CLIENT_MAC.replace(/:/g, ''), 'hex').copy(f, 22);
  Buffer.from([192, 168, 80, 100]).copy(f, 28);
  Buffer.from([192, 168, 80, 200]).copy(f, 38);
  return f;
}

test('ARP: a request is answered to the asker with our MAC; a gratuitous ARP is a broadcast request for our own address', () => {
  const req = parseArp(arpRequest())!;
  assert.deepEqual(req, { op: 'request', senderMAC: CLIENT_MAC, senderIP: '192.168.80.100', targetMAC: '00:00:00:00:00:00', targetIP: '192.168.80.200' });
  const reply = arpReply(req, NODE_MAC);
  assert.equal(reply.subarray(0, 6).toString('hex'), CLIENT_MAC.replace(/:/g, ''));
  assert.deepEqual(parseArp(reply), { op: 'reply', senderMAC: NODE_MAC, senderIP: '192.168.80.200', targetMAC: CLIENT_MAC, targetIP: '192.168.80.100' });
  const g = gratuitousArp('192.168.80.200', NODE_MAC);
  assert.equal(g.subarray(0, 6).toString('hex'), 'ffffffffffff');
  assert.deepEqual(parseArp(g), { op: 'request', senderMAC: NODE_MAC, senderIP: '192.168.80.200', targetMAC: '00:00:00:00:00:00', targetIP: '192.168.80.200' });
  assert.equal(parseArp(Buffer.alloc(10)), null);
});

test('NDP: advertisements carry a valid checksum, the S and O flags and our MAC; solicitations are read back', () => {
  // An unsolicited NA is structurally a solicitation with another type: turn one into an NS
  // (type 135, recomputed checksum) to exercise the parser on a frame built independently.
  const na = unsolicitedNeighborAdvert('fd00:80::200', NODE_MAC);
  assert.equal(na.subarray(0, 6).toString('hex'), '333300000001');
  assert.equal(na[14 + 7], 255); // hop limit
  const icmp = na.subarray(54);
  assert.equal(icmp[0], 136);
  assert.equal(icmp[4], 0x20); // override, not solicited
  assert.equal(icmp.subarray(26, 32).toString('hex'), NODE_MAC.replace(/:/g, ''));
  // Checksum over pseudo-header + ICMPv6 sums to 0xffff when valid.
  const sum = (b: Buffer, init = 0) => {
    let s = init;
    for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) + (b[i + 1] ?? 0);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return s;
  };
  const pseudo = Buffer.concat([na.subarray(22, 54), Buffer.from([0, 0, 0, icmp.length, 0, 0, 0, 58])]);
  assert.equal(sum(icmp, sum(pseudo)), 0xffff);

  const ns = Buffer.from(na);
  ns[54] = 135;
  ns[58] = 0;
  ns[78] = 1; // option: source link-layer address
  Buffer.from(CLIENT_MAC.replace(/:/g, ''), 'hex').copy(ns, 80);
  Buffer.from(CLIENT_MAC.replace(/:/g, ''), 'hex').copy(ns, 6);
  Buffer.from('fd000080000000000000000000000100', 'hex').copy(ns, 22); // source fd00:80::100
  ns.writeUInt16BE(0, 56);
  const p2 = Buffer.concat([ns.subarray(22, 54), Buffer.from([0, 0, 0, 32, 0, 0, 0, 58])]);
  ns.writeUInt16BE(~sum(ns.subarray(54), sum(p2)) & 0xffff, 56);
  const parsed = parseNeighborSolicitation(ns)!;
  assert.deepEqual(parsed, { srcMAC: CLIENT_MAC, srcIP: 'fd00:80::100', dstIP: 'ff02::1', target: 'fd00:80::200', sourceLinkAddress: CLIENT_MAC });
  const answer = neighborAdvertFor(parsed, NODE_MAC);
  assert.equal(answer.subarray(0, 6).toString('hex'), CLIENT_MAC.replace(/:/g, ''));
  assert.equal(answer[54 + 4], 0x60); // solicited + override
  // A corrupted checksum is refused.
  ns[60] ^= 1;
  assert.equal(parseNeighborSolicitation(ns), null);
});
