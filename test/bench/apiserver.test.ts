// What the API server learned to answer for an upstream kube-proxy (kproxy bench
// --kube-proxy): GET of one object, the Service field selector spec.clusterIP!=None, the
// ServiceCIDR list, and the watch-list form of a watch (initial objects, then a bookmark
// marking their end). And the metrics reader the bench takes sync times with.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAPIServer, type Obj } from '../../src/bench/apiserver.js';
import { nodeObject, serviceObject } from '../../src/bench/cluster.js';
import { histogram, parseMetrics } from '../../src/bench/prom-text.js';

const api = new TestAPIServer();
const get = async (path: string) => {
  const r = await fetch(api.url + path);
  return { status: r.status, body: (await r.json()) as { items?: Obj[]; metadata: Obj['metadata']; message?: string } };
};

describe('the bench API server, as kube-proxy uses it', () => {
  before(async () => {
    api.apply(nodeObject() as Obj);
    api.apply(serviceObject(0) as Obj);
    const headless = serviceObject(1) as Obj & { spec: { clusterIP: string } };
    headless.spec.clusterIP = 'None';
    api.apply(headless);
    await api.start();
  });
  after(() => api.stop());

  it('answers GET of one object, and 404 for one that is not there', async () => {
    const node = await get('/api/v1/nodes/node-0');
    assert.equal(node.status, 200);
    assert.equal(node.body.metadata.name, 'node-0');
    assert.equal((await get('/api/v1/namespaces/bench/services/svc-0')).body.metadata.name, 'svc-0');
    const missing = await get('/api/v1/nodes/node-9');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'nodes "node-9" not found');
  });

  it('selects Services by spec.clusterIP, and still refuses a field it does not know', async () => {
    const l = await get('/api/v1/services?labelSelector=!service.kubernetes.io/service-proxy-name&fieldSelector=spec.clusterIP!%3DNone');
    assert.deepEqual(
      l.body.items!.map((o) => o.metadata.name),
      ['svc-0'],
    );
    assert.equal((await get('/api/v1/services?fieldSelector=spec.type%3DClusterIP')).status, 400);
  });

  it('lists ServiceCIDRs (none)', async () => {
    const l = await get('/apis/networking.k8s.io/v1/servicecidrs');
    assert.equal(l.status, 200);
    assert.deepEqual(l.body.items, []);
  });

  it('sends the initial objects and then the bookmark ending them when a watch asks for them', async () => {
    const ac = new AbortController();
    const r = await fetch(`${api.url}/api/v1/nodes?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`, { signal: ac.signal });
    const reader = r.body!.getReader();
    let text = '';
    while (text.split('\n').length < 3) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    const [added, bookmark] = text.split('\n').map((l) => JSON.parse(l || 'null') as { type: string; object: Obj });
    assert.equal(added.type, 'ADDED');
    assert.equal(added.object.metadata.name, 'node-0');
    assert.equal(bookmark.type, 'BOOKMARK');
    assert.deepEqual(bookmark.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
  });
});

describe('reading a proxy metrics page', () => {
  const page = [
    '# HELP kubeproxy_sync_full_proxy_rules_duration_seconds SyncProxyRules latency in seconds for full resyncs',
    '# TYPE kubeproxy_sync_full_proxy_rules_duration_seconds histogram',
    'kubeproxy_sync_full_proxy_rules_duration_seconds_bucket{ip_family="IPv4",le="0.001"} 0',
    'kubeproxy_sync_full_proxy_rules_duration_seconds_sum{ip_family="IPv4"} 0.25',
    'kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1',
    'kubeproxy_sync_full_proxy_rules_duration_seconds_sum{ip_family="IPv6"} 0.05',
    'kubeproxy_sync_full_proxy_rules_duration_seconds_count{ip_family="IPv6"} 1',
    'kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7649e+09',
    'garbage line',
  ].join('\n');

  it("sums a histogram over its label sets but the IPv6 proxier's, and knows which metrics are absent", () => {
    const m = parseMetrics(page.replace('seconds_count{ip_family="IPv4"} 1', 'seconds_count{ip_family="IPv4",x="y"} 1\nkubeproxy_sync_full_proxy_rules_duration_seconds_count{x="z"} 2'));
    assert.deepEqual(histogram(m, 'kubeproxy_sync_full_proxy_rules_duration_seconds'), { count: 3, sum: 0.25 });
    assert.equal(histogram(m, 'kubeproxy_sync_partial_proxy_rules_duration_seconds'), null);
    assert.equal(m.get('kubeproxy_sync_proxy_rules_last_timestamp_seconds'), 1.7649e9);
  });
});
