// Random and mutated packets: the server answers each with a well-formed message or drops
// it, never throws, and keeps answering over UDP and TCP afterwards. A bounded run here;
// bench/dns/fuzz.ts throws a million.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { framed, query, startServer, tcpExchange, udpExchange, type Running } from './helpers.js';
import { packetArbitrary } from './packets.js';

const Z = 'cluster.local';

describe('DNS fuzzing', () => {
  let s: Running;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  it('every packet gets a well-formed answer with its ID, or none; nothing throws', () => {
    fc.assert(
      fc.property(packetArbitrary(), fc.boolean(), (pkt, tcp) => {
        const r = s.server.answer(pkt, tcp);
        assert.ok(!(r instanceof Promise), 'nothing is forwarded without upstreams');
        if (r === null) return;
        assert.ok(pkt.length >= 12, 'only packets with a header are answered');
        assert.equal(r.readUInt16BE(0), pkt.readUInt16BE(0), 'ID kept');
        assert.ok(r[2] & 0x80, 'QR set');
        if (!tcp) assert.ok(r.length <= 65535);
        const d = dnsPacket.decode(r); // throws if we wrote a malformed message
        assert.equal(d.type, 'response');
      }),
      { numRuns: 20_000 },
    );
  });

  it('keeps answering after thousands of random and mutated packets over UDP and TCP', async () => {
    const packets = fc.sample(packetArbitrary(), { numRuns: 4000, seed: 42 });
    const udp = dgram.createSocket('udp4');
    // answers come in batches (recvmmsg/sendmmsg): a default receive queue overflows before Node reads it
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    udp.setRecvBufferSize(4 << 20);
    let answers = 0;
    udp.on('message', () => answers++);
    for (let i = 0; i < packets.length; i++) {
      udp.send(packets[i], s.port, '127.0.0.1');
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 5));
    }
    // TCP: the same packets framed on a few connections, some with a lying length prefix.
    await Promise.all(
      [0, 1, 2, 3].map(
        (c) =>
          new Promise<void>((resolve) => {
            const sock = net.connect(s.port, '127.0.0.1');
            sock.on('error', () => resolve());
            sock.on('data', () => {});
            sock.on('connect', () => {
              for (let i = c; i < packets.length; i += 4) {
                const f = framed(packets[i]);
                if (i % 97 === 0) f.writeUInt16BE(f.readUInt16BE(0) + 5, 0); // declares more than follows
                sock.write(f);
              }
              sock.end(() => setTimeout(() => (sock.destroy(), resolve()), 50));
            });
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    udp.close();
    assert.ok(answers > 1000, `${answers} UDP answers`);

    const u = dnsPacket.decode((await udpExchange(s.port, query(`web.demo.svc.${Z}`, 'A')))!);
    assert.equal(u.answers?.length, 1);
    const [t] = await tcpExchange(s.port, [framed(query(`web.demo.svc.${Z}`, 'A'))], 1);
    assert.equal(dnsPacket.decode(t).answers?.length, 1);
  });
});
