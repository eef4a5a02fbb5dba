// LoadBalancer address management against an API server (the test API server speaking
// list/watch, Lease GET/POST/PUT with resourceVersion conflicts, and status merge patches):
// two kproxy instances, one elected writer, the status reaching both models through the watch;
// without MetalLB's CRDs the feature says so once and stays off.
import { strict as assert } from 'node:assert';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config/load.js';
import { startClusterLoadBalancer, LEADER_LEASE_NAME, type ClusterLoadBalancer } from '../../src/lb/kube/cluster.js';
import { LoadBalancerTracker } from '../../src/lb/tracker.js';
import { kubeSource } from '../../src/sources/kube/source.js';
import type { Source } from '../../src/sources/source.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { TestAPIServer, writeKubeconfig } from '../sources/kube/apiserver.js';
import { waitFor } from '../sources/kube/harness.js';

interface Instance {
  tracker: LoadBalancerTracker;
  source: Source;
  lb: ClusterLoadBalancer;
  warnings: string[];
}

async function instance(api: TestAPIServer, node: string): Promise<Instance> {
  const config = defaultConfig();
  config.hostnameOverride = node;
  config.kubeconfig = writeKubeconfig(api.url);
  config.clientConnection.qps = 0;
  const warnings: string[] = [];
  const log = Object.create(silentLogger()) as Logger;
  (log as unknown as { warn: (...a: unknown[]) => void }).warn = (...a: unknown[]) => warnings.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
  const tracker = new LoadBalancerTracker({ nodeName: node, machineAddresses: ['192.0.2.1'], writesStatus: 'api' });
  let lb: ClusterLoadBalancer | null = null;
  // What the sync runner does: snapshot (assignment runs first), then the add-on reconciles.
  const changed = () =>
    setImmediate(() => {
      tracker.snapshot();
      lb?.reconcile();
    });
  const source = kubeSource({ config, sink: tracker, changed, log }, { backoff: { initialMs: 20, maxMs: 100 }, watchTimeoutSeconds: () => 60 });
  await source.start();
  lb = await startClusterLoadBalancer({ config, log, tracker, changed, leader: { leaseSeconds: 1, retryMs: 200 } });
  return { tracker, source, lb, warnings };
}

const service = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ports: [{ port: 80, protocol: 'TCP' }] },
});
const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });

describe('LoadBalancer addresses in a cluster', () => {
  it('without the metallb.io CRDs: said once, no leader election, no status written', async () => {
    const api = new TestAPIServer();
    await api.start();
    api.apply(node('n1'));
    api.apply(service('web'));
    const a = await instance(api, 'n1');
    try {
      assert.equal(a.lb.metallbInstalled, false);
      assert.equal(a.warnings.filter((w) => /LoadBalancer address management is off: the metallb.io\/v1beta1 CRDs .* are not installed/.test(w)).length, 1);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(api.get('Lease', 'kube-system', LEADER_LEASE_NAME), undefined);
      assert.equal(api.requests.filter((r) => r.path.endsWith('/status')).length, 0);
    } finally {
      await a.lb.stop();
      await a.source.stop();
      await api.stop();
    }
  });

  it('an API server that is not up yet at start: asked again until it answers, and address management is on', async () => {
    // A port nobody listens on yet; the API server comes up there a moment after kproxy asks.
    const port = await new Promise<number>((ok) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => ok(p));
      });
    });
    const config = defaultConfig();
    config.hostnameOverride = 'n1';
    config.kubeconfig = writeKubeconfig(`http://127.0.0.1:${port}`);
    config.clientConnection.qps = 0;
    const warnings: string[] = [];
    const log = Object.create(silentLogger()) as Logger;
    (log as unknown as { warn: (...a: unknown[]) => void }).warn = (...a: unknown[]) => warnings.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
    const tracker = new LoadBalancerTracker({ nodeName: 'n1', machineAddresses: ['192.0.2.1'], writesStatus: 'api' });
    const starting = startClusterLoadBalancer({ config, log, tracker, changed: () => {}, discoveryBackoff: { initialMs: 50, maxMs: 200 }, leader: { leaseSeconds: 1, retryMs: 200 } });
    await new Promise((r) => setTimeout(r, 400));
    const api = new TestAPIServer({ metallb: true });
    await api.start(port);
    const lb = await starting;
    try {
      assert.equal(lb.metallbInstalled, true, warnings.join('\n'));
      assert.equal(
        warnings.filter((w) => /cannot ask the API server whether metallb\.io\/v1beta1 is served yet \(.*ECONNREFUSED.*\); asking again until it answers/.test(w)).length,
        1,
        warnings.join('\n'),
      );
      assert.equal(warnings.filter((w) => /address management is off/.test(w)).length, 0, warnings.join('\n'));
    } finally {
      await lb.stop();
      await api.stop();
    }
  });

  it('two instances: one holds the Lease and writes the status; both models see the address', async () => {
    const api = new TestAPIServer({ metallb: true });
    await api.start();
    api.apply(node('n1'));
    api.apply(node('n2'));
    api.apply({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lan', namespace: 'metallb-system' }, spec: { addresses: ['192.168.80.200/30'] } });
    api.apply(service('web'));
    const a = await instance(api, 'n1');
    const b = await instance(api, 'n2');
    try {
      await waitFor('the status to be written', () => JSON.stringify(api.get('Service', 'default', 'web')?.status ?? {}).includes('192.168.80.200'));
      const lease = api.get('Lease', 'kube-system', LEADER_LEASE_NAME)!;
      assert.ok(['n1', 'n2'].includes((lease.spec as { holderIdentity: string }).holderIdentity));
      const ingress = (i: Instance) =>
        i.tracker
          .snapshot()
          .services.get('default/web')
          ?.loadBalancerIngress.map((g) => g.ip);
      await waitFor('both models to see the address', () => JSON.stringify(ingress(a)) === '["192.168.80.200"]' && JSON.stringify(ingress(b)) === '["192.168.80.200"]');
      // A second Service: assigned by the same single writer, the first keeps its address.
      api.apply(service('api'));
      await waitFor('the second status', () => JSON.stringify(api.get('Service', 'default', 'api')?.status ?? {}).includes('192.168.80.201'));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(api.requests.filter((r) => r.path.endsWith('/status')).length, 2, 'one status write per Service, by the leader alone');
      assert.deepEqual(ingress(a), ['192.168.80.200']);
      // The leader stops (its Lease is no longer renewed): the other takes the Lease once it
      // expires and writes the status of the next Service.
      const holder = (api.get('Lease', 'kube-system', LEADER_LEASE_NAME)!.spec as { holderIdentity: string }).holderIdentity;
      const [leader, follower] = holder === 'n1' ? [a, b] : [b, a];
      await leader.lb.stop();
      await leader.source.stop();
      api.apply(service('third'));
      await waitFor('the other instance to take the Lease and write', () => JSON.stringify(api.get('Service', 'default', 'third')?.status ?? {}).includes('192.168.80.202'), 5000);
      assert.equal((api.get('Lease', 'kube-system', LEADER_LEASE_NAME)!.spec as { holderIdentity: string }).holderIdentity, holder === 'n1' ? 'n2' : 'n1');
      assert.ok(follower.tracker.snapshot().services.get('default/third'));
    } finally {
      for (const i of [a, b]) {
        await i.lb.stop();
        await i.source.stop();
      }
      await api.stop();
    }
  });
});
