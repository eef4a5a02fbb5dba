// Forwarded answers obey the client's UDP size (512 without EDNS, at most 1232 with it) and
// come back truncated (TC) when bigger; each forwarded query leaves from its own random port
// with a random ID.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { query, startServer, udpExchange } from './helpers.js';

const TC = 0x0200;

test('a 5 KB upstream answer reaches a UDP client truncated to its size; ports and IDs vary per query', async () => {
  // A fake upstream: answers every question with 40 TXT records of 120 bytes (~5 KB), over UDP.
  const upstream = dgram.createSocket('udp4');
  const seen: { port: number; id: number }[] = [];
  upstream.on('message', (m, r) => {
    const q = dnsPacket.decode(m);
    seen.push({ port: r.port, id: q.id ?? 0 });
    const answers = Array.from({ length: 40 }, (_, i) => ({ type: 'TXT' as const, name: q.questions![0].name, ttl: 0, data: [`${i}`.padEnd(120, 'x')] }));
    upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers }), r.port, r.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  const s = await startServer({ upstreams: [`127.0.0.1:${(upstream.address() as { port: number }).port}`] }, null);
  try {
    const plain = (await udpExchange(s.port, query('big.example.test', 'TXT', { id: 11 })))!;
    assert.ok(plain.length <= 512, `${plain.length} bytes without EDNS`);
    assert.ok(plain.readUInt16BE(2) & TC, 'TC set');
    assert.equal(dnsPacket.decode(plain).id, 11);
    const edns = (await udpExchange(s.port, query('big.example.test', 'TXT', { id: 12, edns: 4096 })))!;
    assert.ok(edns.length <= 1232, `${edns.length} bytes with EDNS 4096`);
    assert.ok(edns.readUInt16BE(2) & TC);
    const d = dnsPacket.decode(edns);
    assert.equal(d.questions?.[0].name, 'big.example.test');
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0].port, seen[1].port, 'a fresh source port per query');
    assert.notEqual(seen[0].id, 11);
  } finally {
    await s.close();
    upstream.close();
  }
});
