// Packets for fuzzing the DNS server: random bytes, valid queries with random mutations,
// and hand-made traps (compression loops, many questions, label chains, lying counts).
import dnsPacket from 'dns-packet';
import fc from 'fast-check';

const NAMES = [
  'web.demo.svc.cluster.local',
  '_http._tcp.web.demo.svc.cluster.local',
  'db.demo.svc.cluster.local',
  '_pg._tcp.db.demo.svc.cluster.local',
  'db-0.db.demo.svc.cluster.local',
  'ext.demo.svc.cluster.local',
  'dns-version.cluster.local',
  'demo.svc.cluster.local',
  'nope.demo.svc.cluster.local',
  '10.0.96.10.in-addr.arpa',
  'cluster.local',
  'example.com',
];
const TYPES = ['A', 'AAAA', 'SRV', 'PTR', 'TXT', 'CNAME', 'SOA', 'NS', 'ANY', 'MX', 'AXFR'] as const;

function randomCase(name: string, bits: number): string {
  return [...name].map((c, i) => ((bits >> (i % 30)) & 1 ? c.toUpperCase() : c)).join('');
}

/** A valid query of a name the fixtures know (or nearly), EDNS or not. */
export const validQuery = fc
  .record({
    name: fc.constantFrom(...NAMES),
    caseBits: fc.integer({ min: 0, max: 2 ** 30 - 1 }),
    type: fc.constantFrom(...TYPES),
    id: fc.integer({ min: 0, max: 65535 }),
    edns: fc.option(fc.integer({ min: 0, max: 65535 })),
  })
  .map(({ name, caseBits, type, id, edns }) =>
    dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: randomCase(name, caseBits), type: type as 'A', class: 'IN' }],
      additionals: edns === null ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: edns, flags: 0, options: [] } as never],
    }),
  );

type Mutation = (b: Buffer) => Buffer;

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }).map(({ at, v }) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length) c[at % c.length] = v;
    return c;
  }),
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % (b.length + 1))),
  fc.uint8Array({ maxLength: 64 }).map((junk) => (b: Buffer) => Buffer.concat([b, Buffer.from(junk)])),
  fc.record({ field: fc.integer({ min: 2, max: 5 }), v: fc.integer({ min: 0, max: 65535 }) }).map(({ field, v }) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length >= 12) c.writeUInt16BE(v, field * 2); // flags or a count
    return c;
  }),
  // A compression pointer planted anywhere, often pointing at itself (a loop).
  fc.record({ at: fc.nat(), self: fc.boolean(), to: fc.nat({ max: 0x3fff }) }).map(({ at, self, to }) => (b: Buffer) => {
    const c = Buffer.from(b);
    if (c.length < 2) return c;
    const o = at % (c.length - 1);
    c.writeUInt16BE(0xc000 | (self ? o : to), o);
    return c;
  }),
);

const mutated = fc.tuple(validQuery, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([q, ms]) => ms.reduce((b, m) => m(b), q));

/** Hand-made traps. */
const traps = fc.oneof(
  // Many questions.
  fc.integer({ min: 2, max: 200 }).map((n) => {
    const q = dnsPacket.encode({ type: 'query', id: 1, questions: Array.from({ length: n }, (_, i) => ({ name: `q${i}.cluster.local`, type: 'A' as const })) });
    return q;
  }),
  // A question name that is a chain of pointers to each other, or a 255+ byte label chain.
  fc.integer({ min: 1, max: 300 }).map((n) => {
    const h = Buffer.from([0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    const labels = Buffer.concat(Array.from({ length: n }, () => Buffer.from([1, 97])));
    return Buffer.concat([h, labels, Buffer.from([0, 0, 1, 0, 1, 0xc0, 0x0c, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0])]);
  }),
  fc.constant(Buffer.from([0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1])),
  // An OPT whose rdlength runs past the end.
  fc.integer({ min: 1, max: 65535 }).map((len) => {
    const q = dnsPacket.encode({ type: 'query', id: 2, questions: [{ name: 'web.demo.svc.cluster.local', type: 'A' }] });
    const opt = Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, len >> 8, len & 255]);
    const out = Buffer.concat([q, opt]);
    out.writeUInt16BE(1, 10);
    return out;
  }),
);

export function packetArbitrary(): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)) },
    { weight: 5, arbitrary: mutated },
    { weight: 2, arbitrary: validQuery },
    { weight: 1, arbitrary: traps },
  );
}
