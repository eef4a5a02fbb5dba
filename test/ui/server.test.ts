// The dashboard's server side without a browser: rows patched by identity, the SSE stream
// (gzip'd, reset then patches), a service port's detail read from the model's entry-point
// decisions, the trace API, and the headers and methods every route answers with.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { defaultConfig } from '../../src/config/load.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { startMetricsServer } from '../../src/metrics/server.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import type { Addon } from '../../src/addons/addon.js';
import { dashboardAddon } from '../../src/ui/addon.js';
import { RowTable } from '../../src/ui/rows.js';
import { createLogger } from '../../src/util/log.js';
import { node, service, slice } from '../helpers/objects.js';

function tracker(): ChangeTracker {
  const t = new ChangeTracker({ nodeName: 'n1' });
  t.upsert(node('n1', { 'topology.kubernetes.io/zone': 'z1' }, ['192.0.2.1']));
  t.upsert(service('ns', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] }));
  t.upsert(
    slice(
      'ns',
      'web',
      'web-1',
      [
        { ip: '10.1.0.1', node: 'n1', ready: true },
        { ip: '10.1.0.2', node: 'n2', ready: true },
      ],
      [{ name: 'http', port: 8080 }],
    ),
  );
  t.upsert(service('ns', 'local', { type: 'NodePort', clusterIP: '10.96.0.11', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, nodePort: 30011 }] }));
  t.upsert(slice('ns', 'local', 'local-1', [{ ip: '10.1.0.3', node: 'n2', ready: true }], [{ name: 'http', port: 8080 }]));
  return t;
}

describe('dashboard rows', () => {
  it('patches only the service ports whose state changed, and removes deleted ones', () => {
    const t = tracker();
    const rows = new RowTable('cluster.local');
    const first = rows.update(t.snapshot())!;
    assert.deepEqual(first.upsert.map((r) => r.key).sort(), ['ns/local:http/TCP/IPv4', 'ns/web:http/TCP/IPv4']);
    assert.equal(rows.update(t.snapshot()), null, 'nothing changed');
    t.upsert(
      slice(
        'ns',
        'web',
        'web-1',
        [
          { ip: '10.1.0.1', node: 'n1', ready: false },
          { ip: '10.1.0.2', node: 'n2', ready: true },
        ],
        [{ name: 'http', port: 8080 }],
      ),
    );
    const p = rows.update(t.snapshot())!;
    assert.deepEqual(
      p.upsert.map((r) => [r.key, r.ready, r.local, r.remote, r.endpoints]),
      [['ns/web:http/TCP/IPv4', 1, 1, 1, 2]],
    );
    t.delete('Service', 'ns', 'local');
    assert.deepEqual(rows.update(t.snapshot()), { upsert: [], remove: ['ns/local:http/TCP/IPv4'] });
  });
});

describe('dashboard server', () => {
  let server: http.Server;
  let addon: Addon;
  let base: string;
  const t = tracker();

  before(async () => {
    const config = { ...defaultConfig(), metricsBindAddress: '127.0.0.1:0', mode: 'userspace' as const };
    const metrics = new ProxyMetrics();
    addon = (await dashboardAddon({ config, log: createLogger(0), metrics }))!;
    addon.update(t.snapshot());
    server = await startMetricsServer('127.0.0.1:0', metrics, addon.routes);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await addon.close();
    await new Promise((r) => server.close(r));
  });

  const request = (path: string, opts: http.RequestOptions = {}) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      http
        .request(base + path, { agent: false, ...opts }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
        .on('error', reject)
        .end();
    });

  it('serves the page with its security headers, redirects / and refuses writes', async () => {
    const page = await request('/ui/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.match(page.body, /<script src="app.js" defer><\/script>/);
    assert.doesNotMatch(page.body, /<script>|<style|\sstyle=|\son[a-z]+=/, 'no inline script, style or handler');
    const root = await request('/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/ui/');
    assert.equal((await request('/ui/app.js', { method: 'POST' })).status, 405);
    assert.equal((await request('/ui/uplot.js')).status, 200);
  });

  it('streams a gzip-compressed reset, then a patch with only what changed', async () => {
    const events: { name: string; data: any }[] = [];
    const req = http.get(base + '/ui/events', { agent: false, headers: { 'Accept-Encoding': 'gzip' } });
    const res = await new Promise<http.IncomingMessage>((r) => req.once('response', r));
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.match(res.headers['content-type']!, /^text\/event-stream/);
    let buf = '';
    res.pipe(createGunzip()).on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i; (i = buf.indexOf('\n\n')) >= 0; buf = buf.slice(i + 2)) {
        const block = buf.slice(0, i);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name && data) events.push({ name, data: JSON.parse(data) });
      }
    });
    const waitFor = async (name: string) => {
      for (let i = 0; i < 100; i++) {
        const e = events.find((x) => x.name === name);
        if (e) return e;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no ${name} event: ${JSON.stringify(events)}`);
    };
    const reset = await waitFor('reset');
    assert.equal(reset.data.rows.length, 2);
    t.upsert(slice('ns', 'web', 'web-1', [{ ip: '10.1.0.1', node: 'n1', ready: true }], [{ name: 'http', port: 8080 }]));
    addon.update(t.snapshot());
    const patch = await waitFor('patch');
    // rows travel as arrays in the order `fields` names
    const at = (f: string) => reset.data.fields.indexOf(f);
    assert.deepEqual(
      patch.data.upsert.map((r: unknown[]) => [r[at('key')], r[at('endpoints')]]),
      [['ns/web:http/TCP/IPv4', 1]],
    );
    assert.deepEqual(patch.data.remove, []);
    const status = await waitFor('status');
    assert.equal(status.data.generation, patch.data.generation);
    req.destroy();
  });

  it("a service port's detail shows the model's sets and entry-point decisions", async () => {
    const r = await request(`/ui/api/service?key=${encodeURIComponent('ns/local:http/TCP/IPv4')}`);
    assert.equal(r.status, 200);
    const d = JSON.parse(r.body);
    // eTP Local with its only endpoint on another node: external traffic from outside is
    // dropped, traffic from this node's Pods and the node is short-circuited to it
    const ext = d.traffic.find((x: { what: string }) => x.what.startsWith('external'));
    assert.equal(ext.set, 'local');
    assert.equal(ext.endpoints, 0);
    assert.match(ext.decisions.join('\n'), /dropped/);
    assert.match(ext.decisions.join('\n'), /short-circuited to the cluster-wide set \(1\)/);
    assert.deepEqual(d.endpoints[0].sets, { cluster: true, local: false, internal: true, external: false, shortCircuit: true });
    assert.match(d.endpoints[0].facts.join('; '), /on node n2/);
    assert.ok(
      d.rules.lines.some((l: string) => /^TCP 10\.96\.0\.11:80 +internal traffic/.test(l)),
      d.rules.lines.join('\n'),
    );
    assert.ok(d.dns.includes('local.ns.svc.cluster.local. 30 IN A 10.96.0.11') || d.dns.some((l: string) => /^local\.ns\.svc\.cluster\.local\. \d+ IN A 10\.96\.0\.11$/.test(l)), d.dns.join('\n'));
    assert.equal((await request('/ui/api/service?key=nope')).status, 404);
  });

  it('traces a packet and names the field of a bad one', async () => {
    const ok = JSON.parse((await request('/ui/api/trace?src=10.0.0.1&dst=10.96.0.10&dport=80&protocol=tcp')).body);
    assert.equal(ok.verdict, 'DNAT');
    assert.deepEqual(ok.endpoints, [{ ip: '10.1.0.1', port: 8080, probability: 1 }]);
    assert.match(ok.ruleset, /userspace mode programs no ruleset/);
    const bad = JSON.parse((await request('/ui/api/trace?src=10.0.0.1&dst=10.96.0.10&dport=99999')).body);
    assert.equal(bad.error, 'dport: "99999" is not a port (1-65535)');
  });
});

describe('dashboard in nftables mode', () => {
  it('traces the ruleset the dataplane committed, not one compiled again', async () => {
    const { Tracer } = await import('../../src/ui/trace.js');
    const { RulesetStore } = await import('../../src/rules/store.js');
    const { compileText } = await import('../../src/dataplanes/nftables/compile.js');
    const config = { ...defaultConfig(), mode: 'nftables' as const };
    const state = tracker().snapshot();
    const store = new RulesetStore();
    const tracer = new Tracer(config, store);
    const q = new URLSearchParams({ src: '10.0.0.1', dst: '10.96.0.10', dport: '80', protocol: 'tcp' });
    // nothing committed yet: compiled from the state, and said so
    const before = await tracer.trace(q, state);
    assert.deepEqual(before.endpoints.map((e) => e.ip).sort(), ['10.1.0.1', '10.1.0.2']);
    assert.match(before.ruleset, /compiled from the state of generation \d+ \(nothing committed yet\)/);
    // what the applier committed wins, even where it differs from the state (here: one endpoint edited out)
    const committed = compileText(state, config)
      .split('\n')
      .filter((l) => !l.includes('10.1.0.2'))
      .join('\n');
    store.publish({ mode: 'nftables', appliedAt: new Date(0), generation: state.generation, node: 'n1', nodeAddresses: ['192.0.2.1'], render: () => committed });
    const after = await tracer.trace(q, state);
    assert.match(after.ruleset, /^the nftables ruleset committed for generation \d+ at 1970-01-01T00:00:00.000Z$/);
    assert.notDeepEqual(after.endpoints, before.endpoints);
  });

  it("a service port's detail shows its nftables lines", async () => {
    const { rulesFor } = await import('../../src/ui/rules.js');
    const state = tracker().snapshot();
    const sp = state.servicePorts.get('ns/web:http/TCP/IPv4')!;
    const r = await rulesFor(state, sp, { ...defaultConfig(), mode: 'nftables' });
    const text = r.lines.join('\n');
    assert.match(text, /^add chain ip kproxy service-\S+-ns\/web\/tcp\/http$/m);
    assert.match(text, /^add element ip kproxy service-ips \{ 10\.96\.0\.10 \. tcp \. 80 : goto service-\S+-ns\/web\/tcp\/http \}$/m);
    assert.doesNotMatch(text, /ns\/local/, 'only this port');
  });
});
