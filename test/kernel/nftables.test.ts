// The nftables dataplane against the real kernel, in network namespaces built by the harness.
// Phase 1 runs `kproxy run --proxy-mode nftables` inside the node namespace and checks real
// packets; phase 2 drives the applier in-process (its nft and conntrack run inside the node
// namespace) to change endpoints, inject a failing transaction and watch the reconciler.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { defaultConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { ConntrackReconciler } from '../../src/conntrack/reconciler.js';
import { NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { collectText } from '../../src/dataplanes/nftables/nft.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';
import { EXTERNAL_IP, KPROXY_FLAGS, LB_IP, NODEPORT, NODEPORT6, objects, REMOTE_EXTERNAL_IP, REMOTE_LB_IP, slice, VIP, VIP6 } from './fixtures.js';
import { ADDR, exec, histogram, kernelSkipReason, PROJECT_ROOT, Topology, waitFor, type ClientResult } from './harness.js';

const skip = kernelSkipReason();
if (skip) console.log(`# nftables kernel suite: ${skip}`);

const pods = (rs: ClientResult[]) => new Set(rs.filter((r) => r.ok).map((r) => r.pod));
const allOk = (rs: ClientResult[]) => rs.every((r) => r.ok);
const peerIP = (r: ClientResult) => r.peer!.replace(/:\d+$/, '');

describe('nftables dataplane in network namespaces', { skip: skip ?? false }, () => {
  let topo: Topology;
  let dir: string;
  let kproxy: ReturnType<Topology['spawn']> | null = null;
  let kproxyLog = '';

  async function startKproxy(): Promise<void> {
    kproxyLog = '';
    kproxy = topo.spawn('node', [process.execPath, join(PROJECT_ROOT, 'bin', 'kproxy.js'), 'run', '--manifests', dir, '--v', '1', ...KPROXY_FLAGS]);
    kproxy.stderr!.setEncoding('utf8').on('data', (d: string) => (kproxyLog += d));
    // With --v 1 kproxy logs every completed sync.
    await waitFor(async () => /"msg":"(first sync|synced)/.test(kproxyLog), 15_000, "kproxy's first sync").catch((e) => {
      throw new Error(`${(e as Error).message}; kproxy said: ${kproxyLog.slice(-2000)}`);
    });
  }

  async function stopKproxy(): Promise<void> {
    if (!kproxy) return;
    const k = kproxy;
    kproxy = null;
    const exited = new Promise((r) => (k.exitCode !== null ? r(null) : k.once('exit', r)));
    // `ip netns exec` execs node, so this PID is kproxy's own.
    k.kill('SIGTERM');
    await exited;
  }

  before(async () => {
    topo = await Topology.create('nft');
    dir = mkdtempSync(join(tmpdir(), 'kproxy-nft-'));
    writeFileSync(
      join(dir, 'services.yaml'),
      objects()
        .map((o) => stringify(o))
        .join('---\n'),
    );
    await startKproxy();
  });

  after(async () => {
    await stopKproxy().catch(() => {});
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a client outside the test namespaces refuses to run', async () => {
    const r = await exec(process.execPath, [join(PROJECT_ROOT, 'dist', 'test', 'kernel', 'client.js'), 'tcp', '127.0.0.1', '9', '1', '100'], { env: topo.env });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /refusing to run/);
  });

  test('ClusterIP from a pod reaches every endpoint, and from the node', async () => {
    const fromPod = await topo.client('pod2', 'tcp', VIP.web, 80, 50);
    assert.ok(allOk(fromPod), JSON.stringify(histogram(fromPod)));
    assert.deepEqual([...pods(fromPod)].sort(), ['pod1', 'pod2', 'pod3']);
    // Pod to ClusterIP is not masqueraded: the endpoint sees the pod's own address.
    assert.ok(fromPod.every((r) => peerIP(r) === ADDR.pod2 || r.pod === 'pod2'));
    const fromNode = await topo.client('node', 'tcp', VIP.web, 80, 10);
    assert.ok(allOk(fromNode), JSON.stringify(histogram(fromNode)));
  });

  test('NodePort from the external client, masqueraded (eTP Cluster)', async () => {
    const rs = await topo.client('client1', 'tcp', ADDR.node, NODEPORT.web, 30);
    assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
    assert.ok(pods(rs).size >= 2);
    assert.ok(
      rs.every((r) => peerIP(r) !== ADDR.client1),
      'eTP Cluster NodePort traffic is masqueraded',
    );
  });

  test('externalIPs', async () => {
    const rs = await topo.client('client1', 'tcp', EXTERNAL_IP, 80, 10);
    assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
  });

  test('LoadBalancer IP: allowed from the source range, dropped for the other client; NodePort unaffected', async () => {
    const ok = await topo.client('client1', 'tcp', LB_IP, 80, 10);
    assert.ok(allOk(ok), JSON.stringify(histogram(ok)));
    const blocked = await topo.client('client2', 'tcp', LB_IP, 80, 2, 800);
    assert.deepEqual(
      blocked.map((r) => r.error),
      ['TIMEOUT', 'TIMEOUT'],
    );
    const np = await topo.client('client2', 'tcp', ADDR.node, NODEPORT.lb, 3);
    assert.ok(allOk(np), JSON.stringify(histogram(np)));
  });

  test('ClientIP session affinity: 50 connections, one backend', async () => {
    const rs = await topo.client('client1', 'tcp', VIP.sticky, 80, 50);
    assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
    assert.equal(pods(rs).size, 1, JSON.stringify(histogram(rs)));
  });

  test('externalTrafficPolicy Local: local endpoints only, client address preserved; dropped without local endpoints', async () => {
    const rs = await topo.client('client1', 'tcp', ADDR.node, NODEPORT.local, 20);
    assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
    assert.deepEqual([...pods(rs)], ['pod1']);
    assert.ok(
      rs.every((r) => peerIP(r) === ADDR.client1),
      'source address preserved',
    );
    const none = await topo.client('client1', 'tcp', ADDR.node, NODEPORT.remote, 2, 800);
    assert.deepEqual(
      none.map((r) => r.error),
      ['TIMEOUT', 'TIMEOUT'],
    );
  });

  test('externalTrafficPolicy Local without a local endpoint: Pods and the node are short-circuited to the remote endpoint, outsiders dropped', async () => {
    for (const [what, dst, port] of [
      ['LB IP', REMOTE_LB_IP, 80],
      ['externalIP', REMOTE_EXTERNAL_IP, 80],
      ['NodePort', ADDR.node, NODEPORT.remote],
    ] as const) {
      const fromPod = await topo.client('pod2', 'tcp', dst, port, 5);
      assert.ok(allOk(fromPod), `pod → ${what}: ${JSON.stringify(histogram(fromPod))}`);
      assert.deepEqual([...pods(fromPod)], ['pod3'], `pod → ${what}`);
      const fromNode = await topo.client('node', 'tcp', dst, port, 5);
      assert.ok(allOk(fromNode), `node → ${what}: ${JSON.stringify(histogram(fromNode))}`);
      assert.deepEqual([...pods(fromNode)], ['pod3'], `node → ${what}`);
      const fromOutside = await topo.client('client1', 'tcp', dst, port, 1, 800);
      assert.deepEqual(
        fromOutside.map((r) => r.error),
        ['TIMEOUT'],
        `client → ${what}`,
      );
    }
  });

  test('internalTrafficPolicy Local: only node-local endpoints', async () => {
    const rs = await topo.client('pod2', 'tcp', VIP.itl, 80, 20);
    assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
    assert.deepEqual([...pods(rs)], ['pod1']);
  });

  test('no endpoints: refused at once; unknown port of a ClusterIP refused; unallocated service IP dropped', async () => {
    for (const from of ['client1', 'pod2', 'node'] as const) {
      const [r] = await topo.client(from, 'tcp', VIP.empty, 80, 1, 2000);
      assert.equal(r.ok, false);
      assert.equal(r.error, 'ECONNREFUSED', `${from}: ${JSON.stringify(r)}`);
      assert.ok(r.ms < 500, `refused in ${r.ms} ms`);
    }
    const [wrongPort] = await topo.client('pod2', 'tcp', VIP.web, 81, 1, 2000);
    assert.equal(wrongPort.error, 'ECONNREFUSED');
    const [unallocated] = await topo.client('pod2', 'tcp', '10.96.0.99', 80, 1, 800);
    assert.equal(unallocated.error, 'TIMEOUT');
  });

  test('hairpin: a pod reaches itself through its Service (masqueraded)', async () => {
    const rs = await topo.client('pod1', 'tcp', VIP.hairpin, 80, 5);
    assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
    assert.deepEqual([...pods(rs)], ['pod1']);
    assert.ok(
      rs.every((r) => peerIP(r) !== ADDR.pod1),
      'hairpin traffic is masqueraded',
    );
  });

  test('IPv6 (ip6 kproxy table): ClusterIP from a pod, NodePort from the client, no endpoints refused', async () => {
    const rs = await topo.client('pod2', 'tcp', VIP6.web, 80, 20);
    assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
    assert.deepEqual([...pods(rs)].sort(), ['pod1', 'pod2']);
    const np = await topo.client('client1', 'tcp', ADDR.node6, NODEPORT6, 10);
    assert.ok(allOk(np), JSON.stringify(histogram(np)));
    assert.ok(
      np.every((r) => !r.peer!.startsWith(`[${ADDR.client16}]`)),
      'eTP Cluster NodePort traffic is masqueraded',
    );
    const [none] = await topo.client('client1', 'tcp', VIP6.empty, 80, 1, 2000);
    assert.equal(none.error, 'ECONNREFUSED', JSON.stringify(none));
  });

  test('UDP ClusterIP', async () => {
    const rs = await topo.client('pod2', 'udp', VIP.dns, 53, 10);
    assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
  });

  test('ClientIP affinity with TCP and UDP on one port number (DNS): both protocols reach one backend', async () => {
    for (const proto of ['udp', 'tcp'] as const) {
      const rs = await topo.client('client1', proto, VIP.stickyDns, 53, 10, 2000);
      assert.ok(allOk(rs), `${proto}: ${JSON.stringify(histogram(rs))}`);
      assert.equal(pods(rs).size, 1, `${proto}: ${JSON.stringify(histogram(rs))}`);
    }
  });

  test('restarting kproxy does not cut an established TCP connection', async () => {
    const hold = topo.stream('client1', 'tcp-hold', [ADDR.node, String(NODEPORT.web), '100']);
    assert.ok(await hold.until((l) => l.filter((r) => r.ok).length >= 3, 5000), 'connection established');
    await stopKproxy();
    await startKproxy(); // replaces the table left by the first process
    const seen = hold.lines.length;
    assert.ok(await hold.until((l) => l.length >= seen + 5, 5000), 'replies keep coming after the restart');
    const lines = await hold.close();
    assert.ok(
      lines.every((r) => r.ok),
      JSON.stringify(lines.filter((r) => !r.ok)),
    );
    assert.equal(new Set(lines.map((r) => r.pod)).size, 1, 'the same endpoint throughout');
  });

  describe('applier driven in-process', () => {
    let tracker: ChangeTracker;
    let dp: NftablesDataplane;
    let metrics: ProxyMetrics;
    let failNext = false;
    let reconciler: ConntrackReconciler;
    const config: Config = { ...defaultConfig(), mode: 'nftables', clusterCIDRs: [ADDR.clusterCIDR, ADDR.clusterCIDR6], serviceClusterIPRange: [ADDR.serviceCIDR, ADDR.serviceCIDR6] };

    before(async () => {
      await stopKproxy();
      tracker = new ChangeTracker({ nodeName: 'node1' });
      for (const o of objects()) tracker.upsert(o as never);
      metrics = new ProxyMetrics();
      const inNode = (argv: string[]) => ['netns', 'exec', topo.ns('node'), ...argv];
      reconciler = new ConntrackReconciler(metrics.registry, silentLogger(), (args) => exec('ip', inNode(['conntrack', ...args])));
      dp = new NftablesDataplane(config, silentLogger(), metrics.registry, {
        nft: async (input) => {
          let text = await collectText(input);
          if (failNext) {
            failNext = false;
            text += 'add rule ip kproxy no-such-chain accept\n'; // an injected failure: the whole transaction is refused
          }
          const r = await exec('ip', inNode(['nft', '-f', '-']), { input: text });
          if (r.code !== 0) throw new Error(`nft failed: ${r.stderr.trim()}`);
        },
        afterSync: async (state) => {
          await reconciler.reconcile(state);
        },
      });
      await dp.sync(tracker.snapshot(), true);
      assert.equal(dp.lastSync.kind, 'replace');
    });

    const metric = async (name: string) => {
      const text = await metrics.registry.metrics();
      return text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
    };

    test('a UDP flow moves to the remaining endpoint once the reconciler removes the stale entry', async () => {
      const flow = topo.stream('client1', 'udp-flow', [VIP.dns, '53', '40000', '200']);
      assert.ok(await flow.until((l) => l.filter((r) => r.ok).length >= 3, 5000), 'flow answered');
      const first = flow.lines.find((r) => r.ok)!.pod!;
      assert.ok(
        flow.lines.filter((r) => r.ok).every((r) => r.pod === first),
        'a UDP flow sticks to one endpoint',
      );
      const other = first === 'pod1' ? 'pod2' : 'pod1';
      tracker.upsert(slice('dns', [other], 'UDP') as never);
      await dp.sync(tracker.snapshot(), false);
      assert.equal(dp.lastSync.kind, 'partial');
      const mark = flow.lines.length;
      assert.ok(await flow.until((l) => l.slice(mark).some((r) => r.ok && r.pod === other), 3000), `moved to ${other}: ${JSON.stringify(flow.lines.slice(mark))}`);
      await flow.close();
      assert.ok((await metric('kubeproxy_conntrack_reconciler_deleted_entries_total')) >= 1);
    });

    test('a Service going from N endpoints to none: its UDP entries are deleted', async () => {
      const flow = topo.stream('client1', 'udp-flow', [VIP.dns, '53', '40001', '200']);
      assert.ok(await flow.until((l) => l.some((r) => r.ok), 5000));
      await flow.close();
      const count = async () => (await topo.run('node', ['conntrack', '-L', '-p', 'udp', '--orig-dst', VIP.dns])).stdout.split('\n').filter((l) => l.includes('udp')).length;
      assert.ok((await count()) >= 1);
      tracker.delete('EndpointSlice', 'demo', 'dns-1');
      await dp.sync(tracker.snapshot(), false);
      assert.equal(await count(), 0);
      tracker.upsert(slice('dns', ['pod1', 'pod2'], 'UDP') as never);
      await dp.sync(tracker.snapshot(), false);
    });

    test('a failed transaction leaves the previous rules in place and is counted; the retry applies', async () => {
      tracker.upsert(slice('web', ['pod3']) as never);
      failNext = true;
      await assert.rejects(dp.sync(tracker.snapshot(), false), /nft failed/);
      assert.equal(await metric('kubeproxy_sync_proxy_rules_nftables_sync_failures_total'), 1);
      const old = await topo.client('pod2', 'tcp', VIP.web, 80, 30);
      assert.ok(allOk(old), JSON.stringify(histogram(old)));
      assert.ok(pods(old).size >= 2, 'still the old endpoints');
      await dp.sync(tracker.snapshot(), true); // what the runner does after a failure
      assert.equal(dp.lastSync.kind, 'replace');
      const now = await topo.client('pod2', 'tcp', VIP.web, 80, 10);
      assert.deepEqual([...pods(now)], ['pod3']);
    });

    test('partial syncs add and remove a Service; a periodic full sync keeps affinity state', async () => {
      tracker.upsert({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { namespace: 'demo', name: 'late' },
        spec: { clusterIP: '10.96.0.40', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      } as never);
      tracker.upsert(slice('late', ['pod2']) as never);
      await dp.sync(tracker.snapshot(), false);
      assert.equal(dp.lastSync.kind, 'partial');
      assert.deepEqual([...pods(await topo.client('client1', 'tcp', '10.96.0.40', 80, 3))], ['pod2']);
      const sticky = pods(await topo.client('client1', 'tcp', VIP.sticky, 80, 5));
      tracker.delete('Service', 'demo', 'late');
      await dp.sync(tracker.snapshot(), false);
      const [gone] = await topo.client('client1', 'tcp', '10.96.0.40', 80, 1, 800);
      assert.equal(gone.error, 'TIMEOUT', 'an unallocated service IP again');
      await dp.sync(tracker.snapshot(), true);
      assert.equal(dp.lastSync.kind, 'full');
      const after = pods(await topo.client('client1', 'tcp', VIP.sticky, 80, 20));
      assert.deepEqual([...after], [...sticky], 'affinity survives a periodic full sync');
    });

    test('kproxy cleanup deletes exactly its tables', async () => {
      await topo.nft(['-f', '-'], 'add table ip someone-else\n');
      const r = await topo.run('node', [process.execPath, join(PROJECT_ROOT, 'bin', 'kproxy.js'), 'cleanup']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^nftables: deleted table ip kproxy$/m, 'it says what it removed');
      const tables = await topo.nft(['list', 'tables']);
      assert.ok(!tables.includes('kproxy'), tables);
      assert.ok(tables.includes('table ip someone-else'));
    });
  });
});
