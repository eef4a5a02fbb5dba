// The wire protocol around the records: truncation and EDNS(0), name compression, TCP
// framing, malformed queries, and forwarding to upstream servers with a cache.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { framed, query, startServer, tcpExchange, udpExchange, type Running } from './helpers.js';

const Z = 'cluster.local';

const rcodeOf = (m: Buffer) => m.readUInt16BE(2) & 15;
const TC = 0x0200;

function headless(name: string, n: number, subnet: number) {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'load' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'load', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: n }, (_, i) => ({ addresses: [`10.244.${subnet}.${i}`], hostname: `${name}-${i}`, conditions: { ready: true } })),
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  ];
}

describe('DNS protocol', () => {
  let s: Running;
  before(async () => {
    s = await startServer();
    for (const o of headless('big', 200, 10)) s.tracker.upsert(o);
    // 12 endpoints: the SRV answer fits in 512 bytes, its additional A records do not.
    for (const o of headless('mid', 12, 11)) s.tracker.upsert(o);
    s.sync();
  });
  after(() => s.close());

  it('sets TC when an answer does not fit 512 bytes, and sends it whole over TCP', async () => {
    const r = dnsPacket.decode((await udpExchange(s.port, query(`big.load.svc.${Z}`, 'A')))!);
    assert.ok((r.flags ?? 0) & TC, 'TC set');
    assert.equal(r.answers?.length, 0, 'no partial RRset');
    const [t] = await tcpExchange(s.port, [framed(query(`big.load.svc.${Z}`, 'A'))], 1);
    const full = dnsPacket.decode(t);
    assert.equal(full.answers?.length, 200);
    assert.equal((full.flags ?? 0) & TC, 0);
  });

  it('honours the EDNS(0) buffer size of the query', async () => {
    const small = dnsPacket.decode((await udpExchange(s.port, query(`big.load.svc.${Z}`, 'A', { edns: 1232 })))!);
    assert.ok((small.flags ?? 0) & TC, '200 A records do not fit 1232 bytes');
    // A client that offers 4096 still gets at most 1232 bytes over UDP (no IP fragmentation).
    const m = (await udpExchange(s.port, query(`big.load.svc.${Z}`, 'A', { edns: 4096 })))!;
    const large = dnsPacket.decode(m);
    assert.ok((large.flags ?? 0) & TC);
    assert.ok(m.length <= 1232, `${m.length} bytes`);
    const opt = large.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    assert.equal(opt?.udpPayloadSize, 1232);
    // 600 bytes fit under a client's 1232: answered whole.
    const mid = dnsPacket.decode((await udpExchange(s.port, query(`_http._tcp.mid.load.svc.${Z}`, 'SRV', { edns: 4096 })))!);
    assert.equal((mid.flags ?? 0) & TC, 0);
  });

  it('drops optional additional records before truncating', async () => {
    const plain = dnsPacket.decode((await udpExchange(s.port, query(`_http._tcp.mid.load.svc.${Z}`, 'SRV')))!);
    assert.equal((plain.flags ?? 0) & TC, 0);
    assert.equal(plain.answers?.length, 12);
    assert.equal(plain.additionals?.length, 0);
    const edns = dnsPacket.decode((await udpExchange(s.port, query(`_http._tcp.mid.load.svc.${Z}`, 'SRV', { edns: 1232 })))!);
    assert.equal(edns.additionals?.filter((a) => a.type === 'A').length, 12);
  });

  it('compresses names: 200 owner names cost two bytes each', async () => {
    const [t] = await tcpExchange(s.port, [framed(query(`big.load.svc.${Z}`, 'A'))], 1);
    // header + question + 200 × (pointer 2 + type/class/ttl/len 10 + address 4)
    assert.equal(t.length, 12 + (`big.load.svc.${Z}`.length + 2 + 4) + 200 * 16);
  });

  it('keeps the ID and RD of the query and says it is authoritative', async () => {
    const m = (await udpExchange(s.port, query(`web.demo.svc.${Z}`, 'A', { id: 0xbeef, rd: false })))!;
    const r = dnsPacket.decode(m);
    assert.equal(r.id, 0xbeef);
    assert.equal((r.flags ?? 0) & dnsPacket.RECURSION_DESIRED, 0);
    assert.ok((r.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER);
    const rd = dnsPacket.decode((await udpExchange(s.port, query(`web.demo.svc.${Z}`, 'A')))!);
    assert.ok((rd.flags ?? 0) & dnsPacket.RECURSION_DESIRED);
  });

  describe('malformed and unusual queries', () => {
    const good = () => query(`web.demo.svc.${Z}`, 'A');

    it('drops what is too short to answer and what is itself a response', async () => {
      assert.equal(await udpExchange(s.port, Buffer.from([1, 2, 3, 4, 5]), 300), null);
      const resp = good();
      resp[2] |= 0x80;
      assert.equal(await udpExchange(s.port, resp, 300), null);
    });

    it('FORMERR: several questions, a pointer or a bad label in the question, records that overrun the packet', async () => {
      const two = good();
      two.writeUInt16BE(2, 4);
      const pointer = Buffer.concat([good().subarray(0, 12), Buffer.from([3, 119, 101, 98, 0xc0, 12, 0, 1, 0, 1])]);
      const longLabel = Buffer.concat([good().subarray(0, 12), Buffer.from([64]), Buffer.alloc(64, 97), Buffer.from([0, 0, 1, 0, 1])]);
      const overrun = good();
      overrun.writeUInt16BE(1, 10); // ARCOUNT 1, no record
      const loop = Buffer.concat([good(), Buffer.from([0xc0, 0x30, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0])]);
      loop.writeUInt16BE(1, 10);
      for (const [what, m] of Object.entries({ two, pointer, longLabel, overrun, loop })) {
        const r = await udpExchange(s.port, m);
        assert.ok(r, `${what}: answered`);
        assert.equal(rcodeOf(r), 1, `${what}: FORMERR`);
        assert.equal(r.readUInt16BE(0), m.readUInt16BE(0), `${what}: ID kept`);
      }
    });

    it('FORMERR for two OPT records; BADVERS for EDNS version 1', async () => {
      const q = dnsPacket.decode(query(`web.demo.svc.${Z}`, 'A', { edns: 1232 }));
      const twoOpt = dnsPacket.encode({ ...q, additionals: [...(q.additionals ?? []), ...(q.additionals ?? [])] });
      assert.equal(rcodeOf((await udpExchange(s.port, twoOpt))!), 1);
      const v1 = query(`web.demo.svc.${Z}`, 'A', { edns: 1232 });
      v1[v1.length - 11 + 6] = 1; // OPT TTL: extended rcode, version
      const r = (await udpExchange(s.port, v1))!;
      assert.equal(rcodeOf(r), 0);
      const opt = r.subarray(r.length - 11);
      assert.equal(opt.readUInt16BE(1), 41);
      assert.equal(opt[5], 1, 'extended RCODE 16 (BADVERS) = upper bits 1');
    });

    it('NOTIMP for other opcodes; REFUSED for zone transfers', async () => {
      const status = good();
      status[2] = (status[2] & 0x87) | (2 << 3);
      assert.equal(rcodeOf((await udpExchange(s.port, status))!), 4);
      assert.equal(rcodeOf((await udpExchange(s.port, query(Z, 'AXFR')))!), 5);
    });
  });

  describe('TCP framing', () => {
    it('answers pipelined queries on one connection, skipping a zero-length frame', async () => {
      const out = await tcpExchange(
        s.port,
        [Buffer.from([0, 0]), Buffer.concat([framed(query(`web.demo.svc.${Z}`, 'A', { id: 1 })), framed(query(`db.demo.svc.${Z}`, 'A', { id: 2 }))]), framed(query('nope', 'A', { id: 3 }))],
        3,
      );
      assert.deepEqual(out.map((m) => m.readUInt16BE(0)).sort(), [1, 2, 3]);
    });

    it('answers a query trickled one byte per write', async () => {
      const f = framed(query(`web.demo.svc.${Z}`, 'A', { id: 31 }));
      const sock = net.connect(s.port, '127.0.0.1');
      await new Promise((r) => sock.on('connect', r));
      const got = new Promise<Buffer>((resolve) => {
        let buf = Buffer.alloc(0);
        sock.on('data', (d) => {
          buf = Buffer.concat([buf, d]);
          if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) resolve(buf.subarray(2));
        });
      });
      for (const b of f) {
        sock.write(Buffer.from([b]));
        await new Promise((r) => setImmediate(r));
      }
      const m = await got;
      sock.destroy();
      assert.equal(m.readUInt16BE(0), 31);
      assert.equal(dnsPacket.decode(m).answers?.length, 1);
    });

    it('a frame that declares more than it sends stalls only its own connection', async () => {
      const stuck = net.connect(s.port, '127.0.0.1');
      await new Promise((r) => stuck.on('connect', r));
      stuck.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
      const [m] = await tcpExchange(s.port, [framed(query(`web.demo.svc.${Z}`, 'A'))], 1);
      assert.equal(dnsPacket.decode(m).answers?.length, 1);
      assert.ok(await udpExchange(s.port, query(`web.demo.svc.${Z}`, 'A')));
      stuck.destroy();
    });

    it('a 65535-byte frame of garbage gets FORMERR and the connection goes on', async () => {
      const junk = Buffer.alloc(65535, 0x41);
      junk.writeUInt16BE(7, 0);
      junk.writeUInt16BE(0, 2); // a standard query, whose counts and names are garbage
      const out = await tcpExchange(s.port, [framed(junk), framed(query(`web.demo.svc.${Z}`, 'A', { id: 9 }))], 2);
      assert.equal(out.length, 2);
      assert.equal(rcodeOf(out[0]), 1);
      assert.equal(out[1].readUInt16BE(0), 9);
    });
  });
});

describe('forwarding to --dns-upstream', () => {
  let upstream: Running;
  let s: Running;
  before(async () => {
    // The upstream is a second kproxy DNS server, authoritative for another domain.
    upstream = await startServer({ zone: 'example.test', ttl: 30 }, null);
    s = await startServer({ upstreams: [`127.0.0.1:${upstream.port}`] });
  });
  after(async () => {
    await s.close();
    await upstream.close();
  });

  it('relays names outside the zone, over UDP and TCP, and caches the answer', async () => {
    const r = dnsPacket.decode((await udpExchange(s.port, query('dns-version.example.test', 'TXT', { id: 77 })))!);
    assert.equal(r.id, 77);
    assert.equal((r.flags ?? 0) & 15, 0);
    assert.deepEqual((r.answers?.[0] as { data: Buffer[] }).data.map(String), ['1.1.0']);
    const nx = dnsPacket.decode((await udpExchange(s.port, query('nope.example.test', 'A')))!);
    assert.equal((nx.flags ?? 0) & 15, 3, 'NXDOMAIN');
    const [t] = await tcpExchange(s.port, [framed(query('dns-version.example.test', 'TXT'))], 1);
    assert.equal(dnsPacket.decode(t).answers?.length, 1);
    // The cluster zone is still answered locally, with RA now that kproxy recurses.
    const own = dnsPacket.decode((await udpExchange(s.port, query(`web.demo.svc.${Z}`, 'A')))!);
    assert.ok((own.flags ?? 0) & dnsPacket.RECURSION_AVAILABLE);

    await upstream.close();
    const cached = (await udpExchange(s.port, query('DNS-Version.Example.TEST', 'TXT', { id: 78 })))!;
    const c = dnsPacket.decode(cached);
    assert.equal(c.id, 78);
    assert.equal(c.questions?.[0].name, 'DNS-Version.Example.TEST', 'the question as the client wrote it');
    assert.equal(c.answers?.length, 1, 'answered from the cache with the upstream gone');
    const gone = dnsPacket.decode((await udpExchange(s.port, query('other.example.test', 'A'), 4000))!);
    assert.equal((gone.flags ?? 0) & 15, 2, 'SERVFAIL');
  });
});
