// The Kubernetes API source against a real (small) API server speaking list/watch over HTTP.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { endpointsOf, harness, NODE, sleep, waitFor } from './harness.js';
import { node, service, slice } from './objects.js';
import { selfSignedCert } from './apiserver.js';

const SVC_SELECTOR = '!service.kubernetes.io/service-proxy-name';

describe('kube source: initial list', () => {
  it('delivers every object before start() resolves, with the selectors and credentials kube-proxy uses', async () => {
    const h = await harness();
    try {
      h.api.apply(node(NODE, '10.0.0.1'));
      h.api.apply(node('node-b', '10.0.0.2'));
      h.api.apply(service('default', 'web', '10.96.0.10'));
      h.api.apply(slice('default', 'web', ['10.244.1.5', '10.244.2.7']));
      h.api.apply(service('default', 'other-proxy', '10.96.0.11', { labels: { 'service.kubernetes.io/service-proxy-name': 'someone-else' } }));
      h.api.apply(slice('default', 'other-proxy', ['10.244.1.9'], { labels: { 'service.kubernetes.io/service-proxy-name': 'someone-else' } }));
      h.api.apply(service('default', 'db', '', { headless: true }));
      h.api.apply(slice('default', 'db', ['10.244.3.3'], { labels: { 'service.kubernetes.io/headless': '' } }));

      await h.source.start();
      const s = h.state();
      assert.deepEqual(endpointsOf(s), { 'default/web:http': ['10.244.1.5:8080', '10.244.2.7:8080'] });
      assert.equal(s.node.known, true);
      assert.deepEqual(s.node.addresses, ['10.0.0.1']);
      assert.ok(s.services.has('default/db'), 'headless Services reach the model (DNS needs them)');
      assert.ok(!s.services.has('default/other-proxy'), 'Services of another proxy are not watched');
      assert.equal(s.errors.length, 0, JSON.stringify(s.errors));

      const lists = h.api.requests.filter((r) => !r.watch);
      const byPath = Object.fromEntries(lists.map((r) => [r.path, r.query]));
      assert.equal(byPath['/api/v1/services'].labelSelector, SVC_SELECTOR);
      assert.equal(byPath['/apis/discovery.k8s.io/v1/endpointslices'].labelSelector, '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless,kubernetes.io/service-name');
      assert.equal(byPath['/api/v1/nodes'].fieldSelector, `metadata.name=${NODE}`);
      for (const r of lists) {
        assert.equal(r.query.resourceVersion, '0', 'the first list is served from the watch cache');
        assert.equal(r.query.limit, '500');
      }
      await waitFor('three watches', () => h.api.watchCount() === 3);
      const watches = h.api.requests.filter((r) => r.watch);
      for (const w of watches) {
        assert.equal(w.query.allowWatchBookmarks, 'true');
        assert.equal(w.query.resourceVersion, String(h.api.resourceVersion), 'the watch resumes from the list');
        assert.equal(w.query.labelSelector ?? '', byPath[w.path].labelSelector ?? '');
        assert.equal(w.query.fieldSelector ?? '', byPath[w.path].fieldSelector ?? '');
        assert.ok(Number(w.query.timeoutSeconds) > 0);
      }
      for (const r of h.api.requests) assert.equal(r.authorization, 'Bearer test-token');
    } finally {
      await h.close();
    }
  });

  it('keeps headless EndpointSlices when DNS is on, and selects its own service-proxy-name when set', async () => {
    const h = await harness({
      config: (c) => {
        c.dnsBindAddress = '127.0.0.1:1053';
        c.serviceProxyName = 'kproxy';
      },
    });
    try {
      h.api.apply(service('default', 'mine', '10.96.0.20', { labels: { 'service.kubernetes.io/service-proxy-name': 'kproxy' } }));
      h.api.apply(slice('default', 'mine', ['10.244.1.1'], { labels: { 'service.kubernetes.io/service-proxy-name': 'kproxy' } }));
      h.api.apply(service('default', 'theirs', '10.96.0.21'));
      h.api.apply(slice('default', 'theirs', ['10.244.1.2']));
      h.api.apply(service('default', 'dns-only', '', { headless: true, labels: { 'service.kubernetes.io/service-proxy-name': 'kproxy' } }));
      h.api.apply(slice('default', 'dns-only', ['10.244.3.3'], { labels: { 'service.kubernetes.io/headless': '', 'service.kubernetes.io/service-proxy-name': 'kproxy' } }));
      await h.source.start();
      const s = h.state();
      assert.deepEqual(endpointsOf(s), { 'default/mine:http': ['10.244.1.1:8080'] });
      assert.equal(s.endpointSlices.get('default/dns-only')?.length, 1, 'headless endpoints kept for DNS');
      const q = Object.fromEntries(h.api.requests.filter((r) => !r.watch).map((r) => [r.path, r.query.labelSelector]));
      assert.equal(q['/api/v1/services'], 'service.kubernetes.io/service-proxy-name=kproxy');
      assert.equal(q['/apis/discovery.k8s.io/v1/endpointslices'], 'service.kubernetes.io/service-proxy-name=kproxy,kubernetes.io/service-name');
    } finally {
      await h.close();
    }
  });

  it('follows limit/continue pages when the server paginates a re-list', async () => {
    const h = await harness({ api: { goneAsHTTPStatus: true } });
    try {
      for (let i = 0; i < 1203; i++) h.api.apply(service('ns', `s${i}`, `10.96.${i >> 8}.${i & 255}`));
      await h.source.start();
      assert.equal(h.state().services.size, 1203);
      // Force a consistent (paginated) re-list: history gone, watches cut.
      h.api.remove('Service', 'ns', 's7');
      h.api.compact();
      h.api.cutWatches();
      await waitFor('s7 deleted after the re-list', () => !h.state().services.has('ns/s7'));
      const pages = h.api.requests.filter((r) => !r.watch && r.path === '/api/v1/services' && r.query.resourceVersion !== '0');
      assert.equal(pages.length, 3, '1202 Services in pages of 500');
      assert.ok(pages[1].query.continue && pages[2].query.continue);
      assert.equal(h.state().services.size, 1202);
    } finally {
      await h.close();
    }
  });

  it('speaks TLS, verifying the server against the kubeconfig CA, and sends the bearer token', async () => {
    const tls = selfSignedCert();
    const h = await harness({ api: { tls } });
    try {
      h.api.apply(service('default', 'web', '10.96.0.10'));
      h.api.apply(slice('default', 'web', ['10.244.1.5']));
      await h.source.start();
      assert.deepEqual(endpointsOf(h.state()), { 'default/web:http': ['10.244.1.5:8080'] });
      h.api.apply(slice('default', 'web', ['10.244.1.6']));
      await waitFor('watch over TLS', () => endpointsOf(h.state())['default/web:http']?.[0] === '10.244.1.6:8080');
      assert.ok(h.api.requests.every((r) => r.authorization === 'Bearer test-token'));
    } finally {
      await h.close();
    }
    // A server whose certificate the CA did not sign is never trusted.
    const other = await harness({ api: { tls }, caPEM: selfSignedCert().cert });
    try {
      let started = false;
      void other.source.start().then(() => (started = true));
      await sleep(300);
      assert.equal(started, false);
      assert.equal(other.api.requests.length, 0, 'no request got through the TLS handshake');
    } finally {
      await other.close();
    }
  });

  it('waits for an API server that is not there yet, then starts with its objects', async () => {
    const h = await harness({ startAPI: false });
    try {
      h.api.apply(service('default', 'web', '10.96.0.10'));
      h.api.apply(slice('default', 'web', ['10.244.1.5']));
      let started = false;
      const p = h.source.start().then(() => (started = true));
      await sleep(300);
      assert.equal(started, false, 'start() must not resolve before the initial list');
      await h.api.start();
      await p;
      assert.deepEqual(endpointsOf(h.state()), { 'default/web:http': ['10.244.1.5:8080'] });
    } finally {
      await h.close();
    }
  });
});

describe('kube source: watch', () => {
  it('delivers additions, changes and deletions to ProxyState', async () => {
    const h = await harness();
    try {
      h.api.apply(service('default', 'web', '10.96.0.10'));
      await h.source.start();
      assert.deepEqual(endpointsOf(h.state()), { 'default/web:http': [] });

      h.api.apply(slice('default', 'web', ['10.244.1.5']));
      await waitFor('endpoint added', () => endpointsOf(h.state())['default/web:http']?.length === 1);

      h.api.apply(slice('default', 'web', ['10.244.1.5', '10.244.1.6']));
      h.api.apply(service('default', 'api', '10.96.0.12', { port: 443 }));
      h.api.apply(slice('default', 'api', ['10.244.9.9']));
      await waitFor('second endpoint and new service', () => {
        const e = endpointsOf(h.state());
        return e['default/web:http']?.length === 2 && e['default/api:http']?.[0] === '10.244.9.9:8080';
      });

      // An object leaving the selection (labelled for another proxy) arrives as DELETED.
      h.api.apply(service('default', 'api', '10.96.0.12', { labels: { 'service.kubernetes.io/service-proxy-name': 'other' } }));
      h.api.remove('EndpointSlice', 'default', 'web-abcde');
      await waitFor('api gone and web without endpoints', () => {
        const e = endpointsOf(h.state());
        return !('default/api:http' in e) && e['default/web:http']?.length === 0;
      });

      h.api.remove('Service', 'default', 'web');
      await waitFor('web deleted', () => h.state().servicePorts.size === 0);

      // The node's own object: addresses come from it.
      h.api.apply(node(NODE, '10.0.0.1'));
      await waitFor('node known', () => h.state().node.addresses[0] === '10.0.0.1');
      h.api.apply(node('node-z', '10.0.0.99'));
      h.api.remove('Node', '', NODE);
      await waitFor('node gone', () => !h.state().node.known);
      assert.ok(h.changes() > 0);
    } finally {
      await h.close();
    }
  });

  it('reports a bad object by name and field; everything else keeps working', async () => {
    const h = await harness();
    try {
      await h.source.start();
      const bad = service('default', 'broken', '10.96.0.300');
      h.api.apply(bad);
      h.api.apply(service('default', 'fine', '10.96.0.30'));
      await waitFor('fine present', () => h.state().services.has('default/fine'));
      const err = h.state().errors.find((e) => e.name === 'broken');
      assert.ok(err, 'the broken Service is reported');
      assert.equal(err.kind, 'Service');
      assert.match(err.field, /clusterIP/);
    } finally {
      await h.close();
    }
  });

  it('a connection cut in the middle of an event loses nothing: the watch resumes before it', async () => {
    const h = await harness();
    try {
      h.api.apply(service('default', 'web', '10.96.0.10'));
      h.api.apply(slice('default', 'web', ['10.244.1.5']));
      await h.source.start();
      await waitFor('three watches', () => h.api.watchCount() === 3);
      h.api.apply(slice('default', 'web', ['10.244.1.6']), { cutMidEvent: true });
      await waitFor('the cut event, delivered again', () => endpointsOf(h.state())['default/web:http']?.join() === '10.244.1.6:8080');
      assert.deepEqual(endpointsOf(h.state()), { 'default/web:http': ['10.244.1.6:8080'] });
      assert.equal(h.api.requests.filter((r) => !r.watch).length, 3, 'resumed by watch, no re-list');
    } finally {
      await h.close();
    }
  });

  it('resumes from the last bookmark after a cut connection', async () => {
    const h = await harness();
    try {
      h.api.apply(service('default', 'web', '10.96.0.10'));
      await h.source.start();
      await waitFor('three watches', () => h.api.watchCount() === 3);
      for (let i = 0; i < 5; i++) h.api.apply(node(`other-${i}`, `10.0.1.${i}`)); // moves the RV on
      h.api.bookmark();
      const rv = String(h.api.resourceVersion);
      await sleep(100);
      const before = h.api.requests.length;
      h.api.cutWatches();
      await waitFor('watches back', () => h.api.watchCount() === 3);
      const again = h.api.requests.slice(before);
      assert.ok(
        again.every((r) => r.watch),
        'no re-list after a cut: the watch resumes',
      );
      assert.equal(again.find((r) => r.path === '/api/v1/services')?.query.resourceVersion, rv);
    } finally {
      await h.close();
    }
  });
});

describe('kube source: resilience', () => {
  for (const goneAsHTTPStatus of [false, true]) {
    it(`re-lists on 410 Gone (${goneAsHTTPStatus ? 'HTTP status' : 'ERROR event'}) and loses no update`, async () => {
      const h = await harness({ api: { goneAsHTTPStatus } });
      try {
        h.api.apply(service('default', 'web', '10.96.0.10'));
        h.api.apply(slice('default', 'web', ['10.244.1.5']));
        h.api.apply(service('default', 'old', '10.96.0.11'));
        await h.source.start();
        await waitFor('three watches', () => h.api.watchCount() === 3);
        await h.api.stop(); // the connections drop; changes happen while we are away
        h.api.apply(slice('default', 'web', ['10.244.1.5', '10.244.1.6']));
        h.api.remove('Service', 'default', 'old');
        h.api.apply(service('default', 'new', '10.96.0.12'));
        h.api.compact(); // and the history to resume from is gone
        await h.api.start();
        await waitFor('every change while away', () => {
          const e = endpointsOf(h.state());
          return e['default/web:http']?.length === 2 && !('default/old:http' in e) && 'default/new:http' in e;
        });
        const relists = h.api.requests.filter((r) => !r.watch && r.path === '/api/v1/services');
        assert.equal(relists.length, 2, 'one initial list, one re-list');
        assert.equal(relists[1].query.resourceVersion, undefined, 'a re-list after 410 asks for the latest state');
        // And the watch after the re-list is live again.
        h.api.apply(slice('default', 'web', ['10.244.1.7']));
        await waitFor('live after re-list', () => endpointsOf(h.state())['default/web:http']?.join() === '10.244.1.7:8080');
      } finally {
        await h.close();
      }
    });
  }

  it('keeps the last state while the API server is gone, degrades /healthz, and catches up on return', async () => {
    const h = await harness({ healthTimeoutMs: 200 });
    try {
      h.api.apply(node(NODE, '10.0.0.1'));
      h.api.apply(service('default', 'web', '10.96.0.10'));
      h.api.apply(slice('default', 'web', ['10.244.1.5']));
      await h.source.start();
      await waitFor('three watches', () => h.api.watchCount() === 3);
      const before = endpointsOf(h.state());

      h.api.cutWatches();
      await h.api.stop();
      await sleep(400); // several failed reconnects, past the health timeout
      const during = h.state();
      assert.deepEqual(endpointsOf(during), before, 'nothing flushed while disconnected');
      assert.equal(during.node.known, true);
      assert.equal(h.health.health().healthy, false, '/healthz reports the lost API server');
      assert.equal(h.health.live().healthy, true, '/livez stays up: restarting would not help');

      // The server comes back with what changed meanwhile (history intact: a plain resume).
      h.api.apply(slice('default', 'web', ['10.244.1.8']));
      await h.api.start();
      await waitFor('caught up', () => endpointsOf(h.state())['default/web:http']?.join() === '10.244.1.8:8080');
      await waitFor('healthy again', () => h.health.health().healthy);
      const relists = h.api.requests.filter((r) => !r.watch && r.path === '/api/v1/services');
      assert.equal(relists.length, 1, 'history was intact: resumed without a re-list');
    } finally {
      await h.close();
    }
  });
});
