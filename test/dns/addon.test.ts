// The DNS add-on of `kproxy run`: on by default in standalone mode, off in a cluster unless
// asked for, "off" disables it; once started it follows every ProxyState and counts answers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { dnsAddon, dnsAddress, STANDALONE_DNS_ADDRESS } from '../../src/dns/addon.js';
import { addons } from '../../src/cli/run.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { loadManifestsOnce } from '../../src/sources/manifests/once.js';
import { createLogger, silentLogger } from '../../src/util/log.js';
import { Writable } from 'node:stream';
import { dig, FIXTURES, hasDig } from './helpers.js';

const digMissing = !(await hasDig()) && 'dig is not installed';

describe('DNS add-on', () => {
  it('is registered with kproxy run', () => {
    assert.ok(addons.includes(dnsAddon));
  });

  it('defaults: on in standalone mode at 127.0.0.1:10053, off in a cluster, "off" disables', () => {
    assert.equal(dnsAddress(loadConfig({ flags: { manifests: FIXTURES } })), STANDALONE_DNS_ADDRESS);
    assert.equal(dnsAddress(loadConfig({ flags: {} })), null);
    assert.equal(dnsAddress(loadConfig({ flags: { dnsBindAddress: '127.0.0.1:5300' } })), '127.0.0.1:5300');
    assert.equal(dnsAddress(loadConfig({ flags: { manifests: FIXTURES, dnsBindAddress: 'off' } })), null);
  });

  it('returns null when off', async () => {
    const config = loadConfig({ flags: { manifests: FIXTURES, dnsBindAddress: 'off' } });
    assert.equal(await dnsAddon({ config, log: silentLogger(), metrics: new ProxyMetrics() }), null);
  });

  it('serves the ProxyState it is given, with the configured domain and TTL, and counts responses', { skip: digMissing }, async () => {
    // A random port below the ephemeral range (other tests' client sockets live there); the
    // add-on returns null when it cannot bind, so a port taken meanwhile is tried again.
    let port = 0;
    let metrics = new ProxyMetrics();
    let addon: Awaited<ReturnType<typeof dnsAddon>> = null;
    let logged = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((logged += String(chunk)), done()) });
    for (let attempt = 0; attempt < 5 && !addon; attempt++) {
      port = 10000 + Math.floor(Math.random() * 20000);
      const config = loadConfig({ flags: { manifests: FIXTURES, dnsBindAddress: `127.0.0.1:${port}`, clusterDomain: 'kproxy.test', dnsTtl: '30' } });
      metrics = new ProxyMetrics();
      addon = await dnsAddon({ config, log: createLogger(0, sink, 'json'), metrics });
    }
    assert.ok(addon, `the add-on binds one of five random ports: ${logged}`);
    try {
      const tracker = new ChangeTracker({ nodeName: 'n' });
      assert.equal((await dig(port, 'web.demo.svc.kproxy.test', 'A')).status, 'NXDOMAIN', 'empty before the first sync');
      loadManifestsOnce(FIXTURES, tracker);
      addon.update(tracker.snapshot());
      const r = await dig(port, 'web.demo.svc.kproxy.test', 'A');
      assert.deepEqual(r.answer, ['web.demo.svc.kproxy.test. 30 IN A 10.96.0.10']);
      assert.equal((await dig(port, 'web.demo.svc.cluster.local', 'A')).status, 'REFUSED', 'another domain');
      const ns = await dig(port, 'kproxy.test', 'NS');
      assert.deepEqual(ns.additional, ['ns.dns.kproxy.test. 30 IN A 127.0.0.1']);
      const text = await metrics.text();
      assert.match(text, /kproxy_dns_responses_total\{rcode="NOERROR",transport="udp"\} 2/);
      assert.match(text, /kproxy_dns_responses_total\{rcode="NXDOMAIN",transport="udp"\} 1/);
    } finally {
      await addon.close();
    }
  });
});
