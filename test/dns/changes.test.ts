// Answers follow the model: one snapshot after a change, the DNS answer has changed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dig, hasDig, rdata, startServer, type Running } from './helpers.js';

const Z = 'cluster.local';

function dbSlice(readyAll: boolean) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-v4', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.1.6'], conditions: { ready: readyAll } },
      { addresses: ['10.244.1.7'], hostname: 'db-2', conditions: { ready: false } },
    ],
    ports: [{ name: 'pg', port: 15432, protocol: 'TCP' }],
  };
}

describe('DNS answers follow the model', { skip: !(await hasDig()) && 'dig (dnsutils) is not installed' }, () => {
  let s: Running;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  it('an endpoint turning unready leaves the headless answers after the next snapshot', async () => {
    // Ask first, so that prepared answers exist and must be dropped by the change.
    assert.deepEqual(rdata((await dig(s.port, `db.demo.svc.${Z}`, 'A')).answer), ['A 10.244.1.5', 'A 10.244.1.6']);
    assert.equal((await dig(s.port, `_pg._tcp.db.demo.svc.${Z}`, 'SRV')).answer.length, 2);
    assert.equal((await dig(s.port, '-x', '10.244.1.6')).status, 'NOERROR');

    s.tracker.upsert(dbSlice(false));
    // Before the sync, the previous snapshot still answers.
    assert.deepEqual(rdata((await dig(s.port, `db.demo.svc.${Z}`, 'A')).answer), ['A 10.244.1.5', 'A 10.244.1.6']);
    s.sync();

    assert.deepEqual(rdata((await dig(s.port, `db.demo.svc.${Z}`, 'A')).answer), ['A 10.244.1.5']);
    assert.deepEqual(rdata((await dig(s.port, `_pg._tcp.db.demo.svc.${Z}`, 'SRV')).answer), [`SRV 0 100 15432 db-0.db.demo.svc.${Z}.`]);
    assert.equal((await dig(s.port, `10-244-1-6.db.demo.svc.${Z}`, 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(s.port, '-x', '10.244.1.6')).status, 'NXDOMAIN');

    s.tracker.upsert(dbSlice(true));
    s.sync();
    assert.deepEqual(rdata((await dig(s.port, `db.demo.svc.${Z}`, 'A')).answer), ['A 10.244.1.5', 'A 10.244.1.6']);
  });

  it('a headless Service whose last ready endpoint goes becomes NXDOMAIN', async () => {
    s.tracker.upsert({ ...dbSlice(false), endpoints: [] });
    s.tracker.delete('EndpointSlice', 'demo', 'db-v6');
    s.sync();
    assert.equal((await dig(s.port, `db.demo.svc.${Z}`, 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(s.port, `db-0.db.demo.svc.${Z}`, 'AAAA')).status, 'NXDOMAIN');
  });

  it('a deleted Service is NXDOMAIN, with its SRV and PTR names, and so is its namespace once empty', async () => {
    assert.equal((await dig(s.port, `api.other.svc.${Z}`, 'A')).status, 'NOERROR');
    assert.equal((await dig(s.port, `other.svc.${Z}`, 'A')).status, 'NOERROR'); // NODATA: the namespace has Services
    s.tracker.delete('Service', 'other', 'api');
    s.sync();
    for (const [q, t] of [
      [`api.other.svc.${Z}`, 'A'],
      [`_https._tcp.api.other.svc.${Z}`, 'SRV'],
      ['20.0.96.10.in-addr.arpa', 'PTR'],
      [`other.svc.${Z}`, 'A'],
    ]) {
      assert.equal((await dig(s.port, q, t)).status, 'NXDOMAIN', `${q} ${t}`);
    }
    assert.equal((await dig(s.port, `web.demo.svc.${Z}`, 'A')).status, 'NOERROR', 'the other Services stay');
  });

  it('a new Service answers after the next snapshot', async () => {
    s.tracker.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'late', namespace: 'fresh' }, spec: { clusterIP: '10.96.7.7', ports: [{ name: 'http', port: 80 }] } });
    assert.equal((await dig(s.port, `late.fresh.svc.${Z}`, 'A')).status, 'NXDOMAIN');
    s.sync();
    assert.deepEqual(rdata((await dig(s.port, `late.fresh.svc.${Z}`, 'A')).answer), ['A 10.96.7.7']);
    assert.deepEqual(rdata((await dig(s.port, '-x', '10.96.7.7')).answer), [`PTR late.fresh.svc.${Z}.`]);
  });
});
