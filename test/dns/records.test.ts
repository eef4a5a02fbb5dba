// Every record kind of the Kubernetes DNS specification (schema 1.1.0), positive and
// negative, asked with the real dig and with Node's dns.Resolver.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { dig, hasDig, rdata, startServer, type Running } from './helpers.js';

const Z = 'cluster.local';
const SOA = `${Z}. 5 IN SOA ns.dns.${Z}. hostmaster.${Z}.`;

describe('cluster DNS records (dig)', { skip: !(await hasDig()) && 'dig (dnsutils) is not installed' }, () => {
  let s: Running;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  const cases: { q: string; type: string; status: string; answer?: string[]; additional?: string[]; soa?: boolean }[] = [
    // 2.2 schema version
    { q: `dns-version.${Z}`, type: 'TXT', status: 'NOERROR', answer: ['TXT "1.1.0"'] },
    // 2.3.1 ClusterIP A / AAAA, dual-stack and IPv6-only
    { q: `web.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['A 10.96.0.10'] },
    { q: `web.demo.svc.${Z}`, type: 'AAAA', status: 'NOERROR', answer: [], soa: true },
    { q: `dual.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['A 10.96.0.11'] },
    { q: `dual.demo.svc.${Z}`, type: 'AAAA', status: 'NOERROR', answer: ['AAAA fd00:96::11'] },
    { q: `v6only.demo.svc.${Z}`, type: 'AAAA', status: 'NOERROR', answer: ['AAAA fd00:96::12'] },
    { q: `v6only.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: [], soa: true },
    { q: `api.other.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['A 10.96.0.20'] },
    // 2.3.2 SRV for named ports, target the service; its address in the additional section
    { q: `_http._tcp.web.demo.svc.${Z}`, type: 'SRV', status: 'NOERROR', answer: [`SRV 0 100 80 web.demo.svc.${Z}.`], additional: [`A 10.96.0.10`] },
    { q: `_dns._udp.web.demo.svc.${Z}`, type: 'SRV', status: 'NOERROR', answer: [`SRV 0 100 53 web.demo.svc.${Z}.`] },
    { q: `_grpc._tcp.dual.demo.svc.${Z}`, type: 'SRV', status: 'NOERROR', answer: [`SRV 0 100 9090 dual.demo.svc.${Z}.`], additional: ['A 10.96.0.11', 'AAAA fd00:96::11'] },
    { q: `_dns._tcp.web.demo.svc.${Z}`, type: 'SRV', status: 'NXDOMAIN', soa: true }, // the port is UDP
    { q: `_http._tcp.web.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: [], soa: true },
    { q: `_tcp.web.demo.svc.${Z}`, type: 'SRV', status: 'NOERROR', answer: [], soa: true }, // empty non-terminal
    // 2.3.3 PTR for ClusterIPs (IPv4 and nibbles for IPv6)
    { q: '10.0.96.10.in-addr.arpa', type: 'PTR', status: 'NOERROR', answer: [`PTR web.demo.svc.${Z}.`] },
    { q: '2.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa', type: 'PTR', status: 'NOERROR', answer: [`PTR v6only.demo.svc.${Z}.`] },
    { q: '99.0.96.10.in-addr.arpa', type: 'PTR', status: 'NXDOMAIN', soa: false }, // in the service range, unallocated
    // 2.4.1 headless A / AAAA: ready endpoints only
    { q: `db.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['A 10.244.1.5', 'A 10.244.1.6'] },
    { q: `db.demo.svc.${Z}`, type: 'AAAA', status: 'NOERROR', answer: ['AAAA fd00:244::5'] },
    { q: `db-0.db.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['A 10.244.1.5'] },
    { q: `db-0.db.demo.svc.${Z}`, type: 'AAAA', status: 'NOERROR', answer: ['AAAA fd00:244::5'] },
    { q: `10-244-1-6.db.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['A 10.244.1.6'] },
    { q: `db-2.db.demo.svc.${Z}`, type: 'A', status: 'NXDOMAIN', soa: true }, // not ready
    { q: `warm.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['A 10.244.2.9'] }, // publishNotReadyAddresses
    { q: `warm-0.warm.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['A 10.244.2.9'] },
    { q: `empty.demo.svc.${Z}`, type: 'A', status: 'NXDOMAIN', soa: true }, // no ready endpoints
    // 2.4.2 headless SRV: one per ready endpoint and named port, the endpoint's port, target its hostname
    {
      q: `_pg._tcp.db.demo.svc.${Z}`,
      type: 'SRV',
      status: 'NOERROR',
      answer: [`SRV 0 100 15432 10-244-1-6.db.demo.svc.${Z}.`, `SRV 0 100 15432 db-0.db.demo.svc.${Z}.`],
      additional: ['A 10.244.1.5', 'A 10.244.1.6', 'AAAA fd00:244::5'],
    },
    // 2.4.3 headless PTR
    { q: '5.1.244.10.in-addr.arpa', type: 'PTR', status: 'NOERROR', answer: [`PTR db-0.db.demo.svc.${Z}.`] },
    { q: '5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0.0.0.d.f.ip6.arpa', type: 'PTR', status: 'NOERROR', answer: [`PTR db-0.db.demo.svc.${Z}.`] },
    { q: '7.1.244.10.in-addr.arpa', type: 'PTR', status: 'NXDOMAIN', soa: false }, // not ready
    // 2.5 ExternalName: CNAME, whatever the type asked
    { q: `ext.demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: ['CNAME www.example.com.'] },
    { q: `ext.demo.svc.${Z}`, type: 'AAAA', status: 'NOERROR', answer: ['CNAME www.example.com.'] },
    { q: `ext.demo.svc.${Z}`, type: 'CNAME', status: 'NOERROR', answer: ['CNAME www.example.com.'] },
    // Names that exist without records of the type: NODATA; names that do not: NXDOMAIN
    { q: `demo.svc.${Z}`, type: 'A', status: 'NOERROR', answer: [], soa: true },
    { q: `svc.${Z}`, type: 'A', status: 'NOERROR', answer: [], soa: true },
    { q: `${Z}`, type: 'SOA', status: 'NOERROR', answer: [`SOA ns.dns.${Z}. hostmaster.${Z}.`] },
    { q: `nosuch.svc.${Z}`, type: 'A', status: 'NXDOMAIN', soa: true }, // a namespace without Services
    { q: `nope.demo.svc.${Z}`, type: 'A', status: 'NXDOMAIN', soa: true },
    { q: `x.web.demo.svc.${Z}`, type: 'A', status: 'NXDOMAIN', soa: true }, // below a ClusterIP service
    { q: `pod.${Z}`, type: 'A', status: 'NXDOMAIN', soa: true },
    // Outside the zone, no upstream: not an open resolver
    { q: 'example.com', type: 'A', status: 'REFUSED', answer: [] },
    { q: '8.8.8.8.in-addr.arpa', type: 'PTR', status: 'REFUSED', answer: [] },
  ];

  for (const c of cases) {
    it(`${c.q} ${c.type} → ${c.status}${c.answer ? ` ${c.answer.length} answer(s)` : ''}`, async () => {
      const r = await dig(s.port, c.q, c.type);
      assert.equal(r.status, c.status);
      if (c.answer) {
        const got = rdata(r.answer).map((x) => (x.startsWith('SOA') ? x.split(' ').slice(0, 3).join(' ') : x));
        assert.deepEqual(got, [...c.answer].sort());
      }
      if (c.additional) assert.deepEqual(rdata(r.additional), [...c.additional].sort());
      if (c.status === 'NOERROR' || c.status === 'NXDOMAIN') assert.ok(r.flags.includes('aa'), 'authoritative');
      if (c.soa === true) {
        assert.equal(r.authority.length, 1);
        assert.ok(r.authority[0].startsWith(SOA), r.authority[0]);
      }
      if (c.soa === false) assert.match(r.authority[0] ?? '', /^(in-addr|ip6)\.arpa\. 5 IN SOA /);
    });
  }

  it('matches case-insensitively and keeps the case of the question', async () => {
    const r = await dig(s.port, `Web.DEMO.svc.Cluster.Local`, 'A');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.answer, ['Web.DEMO.svc.Cluster.Local. 5 IN A 10.96.0.10']);
    const n = await dig(s.port, `NoPe.DEMO.svc.Cluster.Local`, 'A');
    assert.equal(n.status, 'NXDOMAIN');
    assert.match(n.authority[0], /^Cluster\.Local\. 5 IN SOA /);
  });

  it('answers over TCP as over UDP', async () => {
    const r = await dig(s.port, '+tcp', `_pg._tcp.db.demo.svc.${Z}`, 'SRV');
    assert.equal(r.status, 'NOERROR');
    assert.equal(r.answer.length, 2);
  });

  it('answers ANY with every record at the name', async () => {
    const r = await dig(s.port, `dual.demo.svc.${Z}`, 'ANY');
    assert.deepEqual(rdata(r.answer), ['A 10.96.0.11', 'AAAA fd00:96::11']);
  });

  it('echoes EDNS(0) with its own buffer size, and omits OPT for a plain query', async () => {
    const e = await dig(s.port, '+bufsize=4096', `web.demo.svc.${Z}`);
    assert.equal(e.udpSize, 1232);
    const p = await dig(s.port, '+noedns', `web.demo.svc.${Z}`);
    assert.equal(p.udpSize, null);
    assert.deepEqual(rdata(p.answer), ['A 10.96.0.10']);
  });

  it('refuses other classes', async () => {
    assert.equal((await dig(s.port, '-c', 'CH', 'version.bind', 'TXT')).status, 'REFUSED');
  });
});

describe('cluster DNS records (node dns.Resolver)', () => {
  let s: Running;
  let r: Resolver;
  before(async () => {
    s = await startServer();
    r = new Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`127.0.0.1:${s.port}`]);
  });
  after(() => s.close());

  it('resolves A, AAAA, SRV, PTR, CNAME and TXT', async () => {
    assert.deepEqual(await r.resolve4(`web.demo.svc.${Z}`), ['10.96.0.10']);
    assert.deepEqual(await r.resolve6(`dual.demo.svc.${Z}`), ['fd00:96::11']);
    assert.deepEqual((await r.resolve4(`db.demo.svc.${Z}`)).sort(), ['10.244.1.5', '10.244.1.6']);
    assert.deepEqual(await r.resolveSrv(`_http._tcp.web.demo.svc.${Z}`), [{ name: `web.demo.svc.${Z}`, port: 80, priority: 0, weight: 100 }]);
    const srv = (await r.resolveSrv(`_pg._tcp.db.demo.svc.${Z}`)).map((x) => `${x.name}:${x.port}`).sort();
    assert.deepEqual(srv, [`10-244-1-6.db.demo.svc.${Z}:15432`, `db-0.db.demo.svc.${Z}:15432`]);
    assert.deepEqual(await r.reverse('10.96.0.10'), [`web.demo.svc.${Z}`]);
    assert.deepEqual(await r.reverse('10.244.1.5'), [`db-0.db.demo.svc.${Z}`]);
    assert.deepEqual(await r.reverse('fd00:96::12'), [`v6only.demo.svc.${Z}`]);
    assert.deepEqual(await r.resolveCname(`ext.demo.svc.${Z}`), ['www.example.com']);
    assert.deepEqual(await r.resolveTxt(`dns-version.${Z}`), [['1.1.0']]);
  });

  it('tells a missing name (ENOTFOUND) from a missing type (ENODATA)', async () => {
    await assert.rejects(r.resolve4(`nope.demo.svc.${Z}`), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve4(`empty.demo.svc.${Z}`), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve6(`web.demo.svc.${Z}`), { code: 'ENODATA' });
    await assert.rejects(r.resolve4(`demo.svc.${Z}`), { code: 'ENODATA' });
    await assert.rejects(r.resolve4('example.com'), { code: 'EREFUSED' });
  });
});
