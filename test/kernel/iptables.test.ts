// The iptables dataplane against the real kernel, in the harness's network namespaces, once
// per iptables backend (nft, legacy; a fresh topology each, since both backends' rules would
// be evaluated if mixed). Phase 1 runs `kproxy run --proxy-mode iptables` in the node
// namespace and checks real packets; phase 2 drives the applier in-process (its tools run in
// the node namespace) for partial syncs, an injected restore failure, the conntrack
// reconciler's UDP cases, localhost NodePorts off, stale-chain deletion and cleanup.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { defaultConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { ConntrackReconciler } from '../../src/conntrack/reconciler.js';
import { IptablesDataplane } from '../../src/dataplanes/iptables/apply.js';
import { toolsFor, type IptablesBackend } from '../../src/dataplanes/iptables/backend.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { parseIptables, traceIptables } from '../../src/trace/iptables/index.js';
import { traceJSON } from '../../src/trace/result.js';
import { silentLogger } from '../../src/util/log.js';
import { EXTERNAL_IP, KPROXY_FLAGS, LB_IP, NODEPORT, NODEPORT6, objects, slice, VIP, VIP6 } from './fixtures.js';
import { ADDR, exec, histogram, kernelSkipReason, POD_TCP_PORT, PROJECT_ROOT, Topology, waitFor, type ClientResult } from './harness.js';

const skip = kernelSkipReason(['iptables-nft-restore', 'iptables-legacy-restore', 'ip', 'conntrack', 'sysctl', 'nfacct']);
if (skip) console.log(`# iptables kernel suite: ${skip}`);

const pods = (rs: ClientResult[]) => new Set(rs.filter((r) => r.ok).map((r) => r.pod));
const allOk = (rs: ClientResult[]) => rs.every((r) => r.ok);
const peerIP = (r: ClientResult) => r.peer!.replace(/:\d+$/, '');
const FLAGS = KPROXY_FLAGS.map((f) => (f === 'nftables' ? 'iptables' : f));

// The two backends run side by side (each in its own namespaces): most of the time goes into
// waiting for packets and processes, so on a loaded machine this halves the file's wall time.
// Within one backend the tests run in order: they build on each other's state.
describe('iptables dataplane, both backends at once', { skip: skip ?? false, concurrency: true }, () => {
  for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
    describe(`iptables dataplane, ${backend} backend, in network namespaces`, { concurrency: false }, () => {
      let topo: Topology;
      let dir: string;
      let kproxy: ReturnType<Topology['spawn']> | null = null;
      let kproxyLog = '';
      const other = backend === 'nft' ? 'legacy' : 'nft';
      const save = async (b: IptablesBackend, family: 'IPv4' | 'IPv6' = 'IPv4') => {
        const r = await topo.run('node', [toolsFor(b, '').save(family)]);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout;
      };

      /** Two connections at once that must both go unanswered (DROP): 800 ms, not 2 × 800. */
      const unanswered = async (role: 'client1' | 'client2', ip: string, port: number) => {
        const probe = { proto: 'tcp' as const, dst: ip, port, count: 1, timeoutMs: 800 };
        return (await topo.resident(role).request([probe, probe], true)).flat();
      };

      async function startKproxy(): Promise<void> {
        kproxyLog = '';
        // The nft backend is detected (nothing on the node yet); legacy is asked for.
        const env = backend === 'legacy' ? { ...topo.env, KPROXY_IPTABLES_BACKEND: 'legacy' } : topo.env;
        kproxy = topo.spawn('node', [process.execPath, join(PROJECT_ROOT, 'bin', 'kproxy.js'), 'run', '--manifests', dir, '--v', '1', ...FLAGS], env);
        kproxy.stderr!.setEncoding('utf8').on('data', (d: string) => (kproxyLog += d));
        await waitFor(async () => kproxyLog.includes('"msg":"synced"'), 20_000, "kproxy's first sync").catch((e) => {
          throw new Error(`${(e as Error).message}; kproxy said: ${kproxyLog.slice(-2000)}`);
        });
      }

      async function stopKproxy(): Promise<void> {
        if (!kproxy) return;
        const k = kproxy;
        kproxy = null;
        const exited = new Promise((r) => (k.exitCode !== null ? r(null) : k.once('exit', r)));
        k.kill('SIGTERM');
        await exited;
      }

      before(async () => {
        topo = await Topology.create(`ipt-${backend}`);
        dir = mkdtempSync(join(tmpdir(), 'kproxy-ipt-'));
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

      test(`the ${backend} backend is used and logged; the other holds nothing`, async () => {
        assert.match(kproxyLog, new RegExp(`using the ${backend} backend`));
        assert.match(await save(backend), /:KUBE-SERVICES /);
        assert.match(await save(backend, 'IPv6'), /:KUBE-SERVICES /);
        assert.doesNotMatch(await save(other), /KUBE-/);
      });

      test('ClusterIP from a pod reaches every endpoint unmasqueraded, and from the node', async () => {
        const fromPod = await topo.probe('pod2', 'tcp', VIP.web, 80, 40);
        assert.ok(allOk(fromPod), JSON.stringify(histogram(fromPod)));
        assert.deepEqual([...pods(fromPod)].sort(), ['pod1', 'pod2', 'pod3']);
        assert.ok(fromPod.every((r) => peerIP(r) === ADDR.pod2 || r.pod === 'pod2'));
        const fromNode = await topo.probe('node', 'tcp', VIP.web, 80, 10);
        assert.ok(allOk(fromNode), JSON.stringify(histogram(fromNode)));
      });

      test('NodePort from the external client, masqueraded; on 127.0.0.1 from the node (route_localnet)', async () => {
        const rs = await topo.probe('client1', 'tcp', ADDR.node, NODEPORT.web, 20);
        assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
        assert.ok(pods(rs).size >= 2);
        assert.ok(
          rs.every((r) => peerIP(r) !== ADDR.client1),
          'eTP Cluster NodePort traffic is masqueraded',
        );
        const sysctl = await topo.run('node', ['sysctl', '-n', 'net.ipv4.conf.all.route_localnet']);
        assert.equal(sysctl.stdout.trim(), '1');
        const lo = await topo.probe('node', 'tcp', '127.0.0.1', NODEPORT.web, 10);
        assert.ok(allOk(lo), JSON.stringify(histogram(lo)));
      });

      // The rule text is the same on both backends; the legacy run keeps to the cases that
      // exercise a different kernel module or path (statistic, recent, REJECT, DNAT to
      // localhost, masquerade) so that the suite stays short.
      const nftOnly = backend === 'nft' ? test : test.skip;

      nftOnly('externalIPs; LoadBalancer IP allowed from the source range, dropped for the other client; NodePort unaffected', async () => {
        const ext = await topo.probe('client1', 'tcp', EXTERNAL_IP, 80, 5);
        assert.ok(allOk(ext), JSON.stringify(histogram(ext)));
        const ok = await topo.probe('client1', 'tcp', LB_IP, 80, 5);
        assert.ok(allOk(ok), JSON.stringify(histogram(ok)));
        const blocked = await unanswered('client2', LB_IP, 80);
        assert.deepEqual(
          blocked.map((r) => r.error),
          ['TIMEOUT', 'TIMEOUT'],
        );
        const np = await topo.probe('client2', 'tcp', ADDR.node, NODEPORT.lb, 3);
        assert.ok(allOk(np), JSON.stringify(histogram(np)));
      });

      test('ClientIP session affinity (recent module): 30 connections, one backend', async () => {
        const rs = await topo.probe('client1', 'tcp', VIP.sticky, 80, 30);
        assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
        assert.equal(pods(rs).size, 1, JSON.stringify(histogram(rs)));
      });

      nftOnly('eTP Local: local endpoints only, source kept; dropped without local endpoints. iTP Local: node-local only', async () => {
        const rs = await topo.probe('client1', 'tcp', ADDR.node, NODEPORT.local, 15);
        assert.ok(allOk(rs), JSON.stringify(histogram(rs)));
        assert.deepEqual([...pods(rs)], ['pod1']);
        assert.ok(
          rs.every((r) => peerIP(r) === ADDR.client1),
          'source address preserved',
        );
        const none = await unanswered('client1', ADDR.node, NODEPORT.remote);
        assert.deepEqual(
          none.map((r) => r.error),
          ['TIMEOUT', 'TIMEOUT'],
        );
        const itl = await topo.probe('pod2', 'tcp', VIP.itl, 80, 15);
        assert.ok(allOk(itl), JSON.stringify(histogram(itl)));
        assert.deepEqual([...pods(itl)], ['pod1']);
      });

      test('no endpoints: REJECTed at once (client, pod, node, IPv6)', async () => {
        for (const from of ['client1', 'pod2', 'node'] as const) {
          const [r] = await topo.probe(from, 'tcp', VIP.empty, 80, 1, 2000);
          assert.equal(r.error, 'ECONNREFUSED', `${from}: ${JSON.stringify(r)}`);
          assert.ok(r.ms < 900, `refused in ${r.ms} ms (before the first SYN retransmission)`);
        }
        const [v6] = await topo.probe('client1', 'tcp', VIP6.empty, 80, 1, 2000);
        assert.equal(v6.error, 'ECONNREFUSED', JSON.stringify(v6));
      });

      nftOnly('hairpin (masqueraded), IPv6 ClusterIP and NodePort, UDP ClusterIP', async () => {
        const hp = await topo.probe('pod1', 'tcp', VIP.hairpin, 80, 5);
        assert.ok(allOk(hp), JSON.stringify(histogram(hp)));
        assert.ok(
          hp.every((r) => peerIP(r) !== ADDR.pod1),
          'hairpin traffic is masqueraded',
        );
        const v6 = await topo.probe('pod2', 'tcp', VIP6.web, 80, 15);
        assert.ok(allOk(v6), JSON.stringify(histogram(v6)));
        assert.deepEqual([...pods(v6)].sort(), ['pod1', 'pod2']);
        const np6 = await topo.probe('client1', 'tcp', ADDR.node6, NODEPORT6, 5);
        assert.ok(allOk(np6), JSON.stringify(histogram(np6)));
        const udp = await topo.probe('pod2', 'udp', VIP.dns, 53, 5);
        assert.ok(allOk(udp), JSON.stringify(histogram(udp)));
      });

      test("the kernel's own iptables-save traces like the compiled text", async () => {
        const rs = parseIptables(await save(backend));
        const locals = [ADDR.node, ADDR.nodeToClient2, ADDR.nodeToNode2, ADDR.bridge1];
        const web = traceJSON(traceIptables(rs, { family: 'IPv4', protocol: 'tcp', src: ADDR.pod2, dst: VIP.web, dport: 80, sport: 40000 }, { localAddresses: locals }));
        assert.equal(web.verdict, 'DNAT');
        assert.deepEqual(web.endpoints.map((e) => e.ip).sort(), [ADDR.pod1, ADDR.pod2, ADDR.pod3]);
        for (const e of web.endpoints) assert.ok(Math.abs(e.probability - 1 / 3) < 1e-12, JSON.stringify(e));
        const empty = traceJSON(traceIptables(rs, { family: 'IPv4', protocol: 'tcp', src: ADDR.client1, dst: VIP.empty, dport: 80, sport: 40000 }, { localAddresses: locals }));
        assert.equal(empty.verdict, 'REJECT');
      });

      describe('applier driven in-process', { concurrency: false }, () => {
        let tracker: ChangeTracker;
        let dp: IptablesDataplane;
        let metrics: ProxyMetrics;
        let failNext = false;
        const config: Config = {
          ...defaultConfig(),
          mode: 'iptables',
          hostnameOverride: 'node1',
          clusterCIDRs: [ADDR.clusterCIDR, ADDR.clusterCIDR6],
          serviceClusterIPRange: [ADDR.serviceCIDR, ADDR.serviceCIDR6],
        };
        const inNode = (argv: string[]) => ['netns', 'exec', topo.ns('node'), ...argv];
        const newDataplane = (cfg: Config) =>
          new IptablesDataplane(cfg, silentLogger(), metrics.registry, {
            tools: toolsFor(backend, 'test', ['ip', 'netns', 'exec', topo.ns('node')]),
            keepInputs: true,
            beforeRestore: (_f, input) => {
              if (!failNext) return input;
              failNext = false;
              return input.replace(/COMMIT\n$/, '-A KUBE-SERVICES -j NO-SUCH-CHAIN\nCOMMIT\n'); // refused as a whole
            },
            afterSync: async (state) => {
              await reconciler.reconcile(state);
            },
          });
        let reconciler: ConntrackReconciler;
        const metric = async (name: string) => {
          const text = await metrics.registry.metrics();
          return text
            .split('\n')
            .filter((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'))
            .reduce((s, l) => s + Number(l.split(' ').pop()), 0);
        };

        before(async () => {
          await stopKproxy();
          tracker = new ChangeTracker({ nodeName: 'node1' });
          for (const o of objects()) tracker.upsert(o as never);
          metrics = new ProxyMetrics();
          reconciler = new ConntrackReconciler(metrics.registry, silentLogger(), (args) => exec('ip', inNode(['conntrack', ...args])));
          dp = newDataplane(config);
          await dp.sync(tracker.snapshot(), true);
          assert.equal(dp.lastSync?.kind, 'full');
        });

        test('a partial sync writes only the changed Service chains and deletes the endpoint chain it dropped', async () => {
          const before = await save(backend);
          tracker.upsert(slice('web', ['pod1', 'pod2']) as never);
          await dp.sync(tracker.snapshot(), false);
          assert.equal(dp.lastSync?.kind, 'partial');
          const input = dp.inputText('IPv4')!;
          const declared = input.split('\n').filter((l) => /^:KUBE-(SVC|SEP|EXT|FW|SVL)-/.test(l));
          assert.ok(declared.length >= 4 && declared.length <= 6, `only web's chains: ${declared.join(' ')}`);
          assert.equal(input.split('\n').filter((l) => l.startsWith('-X ')).length, 1, 'the SEP chain of pod3');
          const after = await save(backend);
          assert.ok(after.split('\n').filter((l) => l.startsWith(':KUBE-SEP-')).length === before.split('\n').filter((l) => l.startsWith(':KUBE-SEP-')).length - 1);
          const rs = await topo.probe('pod2', 'tcp', VIP.web, 80, 20);
          assert.deepEqual([...pods(rs)].sort(), ['pod1', 'pod2']);
          assert.ok((await metric('kubeproxy_sync_proxy_rules_iptables_total')) > 0);
        });

        // The conntrack reconciler's cases do not depend on the backend: nft only.
        // kube-proxy's two nfacct counters, fed by real packets and read through /metrics.
        nftOnly('nfacct: NodePort connections on 127.0.0.1 and conntrack-INVALID drops in FORWARD are counted', async () => {
          const LOCALHOST = 'kubeproxy_iptables_localhost_nodeports_accepted_packets_total';
          const INVALID = 'kubeproxy_iptables_ct_state_invalid_dropped_packets_total';
          const v4 = await save(backend);
          assert.match(v4, /^-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name\s+ct_state_invalid_dropped_pkts -j DROP$/m);
          assert.match(v4, /^-A KUBE-NODEPORTS -d 127\.0\.0\.0\/8 .*--dport \d+ -m nfacct --nfacct-name\s+localhost_nps_accepted_pkts -j KUBE-EXT-/m);
          const lo0 = await metric(LOCALHOST);
          const lo = await topo.probe('node', 'tcp', '127.0.0.1', NODEPORT.web, 3);
          assert.ok(allOk(lo), JSON.stringify(histogram(lo)));
          assert.equal((await metric(LOCALHOST)) - lo0, 3, 'one packet (the first) per connection');
          assert.ok(allOk(await topo.probe('client1', 'tcp', ADDR.node, NODEPORT.web, 2)));
          assert.equal((await metric(LOCALHOST)) - lo0, 3, 'NodePort traffic to the node address is not counted');
          // An established connection client1 → pod1 (routed, through FORWARD); its conntrack
          // entry is deleted and mid-stream pickup turned off, so its next packets are INVALID.
          const inv0 = await metric(INVALID);
          const hold = topo.stream('client1', 'tcp-hold', [ADDR.pod1, String(POD_TCP_PORT), '100']);
          try {
            assert.ok(await hold.until((l) => l.filter((r) => r.ok).length >= 3, 5000), 'connection answered');
            await topo.run('node', ['sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_loose=0']);
            await topo.run('node', ['conntrack', '-D', '-p', 'tcp', '--orig-src', ADDR.client1, '--orig-dst', ADDR.pod1]);
            assert.ok(await waitFor(async () => (await metric(INVALID)) - inv0 >= 2, 5000, 'INVALID drops counted'));
          } finally {
            await topo.run('node', ['sysctl', '-qw', 'net.netfilter.nf_conntrack_tcp_loose=1']);
            await hold.close();
          }
        });

        nftOnly('a UDP flow moves to the remaining endpoint once the reconciler removes the stale entry', async () => {
          const flow = topo.stream('client1', 'udp-flow', [VIP.dns, '53', '40000', '200']);
          assert.ok(await flow.until((l) => l.filter((r) => r.ok).length >= 3, 5000), 'flow answered');
          const first = flow.lines.find((r) => r.ok)!.pod!;
          const moved = first === 'pod1' ? 'pod2' : 'pod1';
          tracker.upsert(slice('dns', [moved], 'UDP') as never);
          await dp.sync(tracker.snapshot(), false);
          const mark = flow.lines.length;
          assert.ok(await flow.until((l) => l.slice(mark).some((r) => r.ok && r.pod === moved), 3000), `moved to ${moved}`);
          await flow.close();
          assert.ok((await metric('kubeproxy_conntrack_reconciler_deleted_entries_total')) >= 1);
        });

        nftOnly('a Service going from N endpoints to none: its UDP entries are deleted', async () => {
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

        test('a failed restore leaves the previous rules, is counted, and the full retry applies', async () => {
          tracker.upsert(slice('web', ['pod3']) as never);
          failNext = true;
          await assert.rejects(dp.sync(tracker.snapshot(), false), /restore --noflush failed/);
          assert.equal(await metric('kubeproxy_sync_proxy_rules_iptables_restore_failures_total'), 1);
          assert.equal(await metric('kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total'), 1);
          const old = await topo.probe('pod2', 'tcp', VIP.web, 80, 20);
          assert.ok(allOk(old), JSON.stringify(histogram(old)));
          assert.deepEqual([...pods(old)].sort(), ['pod1', 'pod2'], 'still the old endpoints');
          await dp.sync(tracker.snapshot(), true);
          assert.equal(dp.lastSync?.kind, 'full');
          assert.deepEqual([...pods(await topo.probe('pod2', 'tcp', VIP.web, 80, 5))], ['pod3']);
        });

        test('a periodic full sync puts back a deleted jump rule, adds no second copy of the others, and deletes a stale chain', async () => {
          const ipt = toolsFor(backend, '').iptables('IPv4');
          const jumpsIn = (text: string) => text.split('\n').filter((l) => /^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) .*-j KUBE-/.test(l));
          const before = jumpsIn(await save(backend));
          assert.ok(before.length >= 12, before.join('\n'));
          const gone = '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES';
          assert.ok(before.includes(gone), before.join('\n'));
          const del = await topo.run('node', [
            ipt,
            '-w',
            '5',
            '-t',
            'nat',
            '-D',
            ...gone
              .slice(3)
              .match(/"[^"]*"|\S+/g)!
              .map((a) => a.replace(/^"|"$/g, '')),
          ]);
          assert.equal(del.code, 0, del.stderr);
          // A chain of kube-proxy's shape that no Service uses (as one left by an earlier run).
          const stale = 'KUBE-SEP-AAAAAAAAAAAAAAAA';
          assert.equal((await topo.run('node', [ipt, '-w', '5', '-t', 'nat', '-N', stale])).code, 0);
          assert.ok(!jumpsIn(await save(backend)).includes(gone));
          await dp.sync(tracker.snapshot(), true);
          assert.equal(dp.lastSync?.kind, 'full');
          const after = await save(backend);
          assert.deepEqual(jumpsIn(after).sort(), [...before].sort(), 'the deleted jump rule is back, each jump rule once');
          assert.doesNotMatch(after, new RegExp(`:${stale} `), 'the stale chain is deleted');
          assert.ok(dp.lastSync!.deletedChains >= 1);
        });

        test('a new applier deletes the chains of Services gone while it was away; localhost NodePorts off', async () => {
          tracker.delete('Service', 'demo', 'sticky');
          const off = newDataplane({ ...config, localhostNodePorts: false });
          await off.sync(tracker.snapshot(), true);
          assert.ok(off.lastSync!.deletedChains >= 4, `deleted ${off.lastSync!.deletedChains}`); // SVC + 3 SEP of sticky
          const [gone] = await topo.probe('client1', 'tcp', VIP.sticky, 80, 1, 800);
          assert.equal(gone.error, 'TIMEOUT');
          const [lo] = await topo.probe('node', 'tcp', '127.0.0.1', NODEPORT.web, 1, 1000);
          assert.equal(lo.ok, false, 'no NodePort on 127.0.0.1');
          assert.ok(allOk(await topo.probe('client1', 'tcp', ADDR.node, NODEPORT.web, 3)));
        });

        test('kproxy cleanup removes its chains, jump rules and KUBE-FIREWALL, puts route_localnet back, and nothing else', async () => {
          const tools = toolsFor(backend, '');
          const routeLocalnet = async () => (await topo.run('node', ['sysctl', '-n', 'net.ipv4.conf.all.route_localnet'])).stdout.trim();
          // A new namespace starts with 0; kproxy (localhost NodePorts on) set 1 and recorded the 0.
          assert.equal(await routeLocalnet(), '1');
          assert.match(await save(backend), /^:KUBE-PROXY-ROUTE-LOCALNET-0 /m);
          assert.match(await save(backend), /^-A INPUT -j KUBE-FIREWALL$/m);
          await topo.run('node', [tools.iptables('IPv4'), '-N', 'SOMEONE-ELSE']);
          await topo.run('node', [tools.iptables('IPv4'), '-A', 'INPUT', '-p', 'tcp', '--dport', '9', '-j', 'SOMEONE-ELSE']);
          const r = await topo.run('node', [process.execPath, join(PROJECT_ROOT, 'bin', 'kproxy.js'), 'cleanup']);
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /route_localnet is 0 again/);
          assert.match(r.stdout, /deleted the nfacct counters ct_state_invalid_dropped_pkts, localhost_nps_accepted_pkts/);
          assert.doesNotMatch((await topo.run('node', ['nfacct', 'list'])).stdout, /_pkts/);
          assert.equal(await routeLocalnet(), '0');
          for (const family of ['IPv4', 'IPv6'] as const) {
            const text = await save(backend, family);
            const left = text.split('\n').filter((l) => /KUBE-/.test(l));
            assert.deepEqual(left, [], `${family}: ${left.join('\n')}`);
          }
          const v4 = await save(backend);
          assert.match(v4, /-A INPUT -p tcp -m tcp --dport 9 -j SOMEONE-ELSE/);
          assert.doesNotMatch(await save(other), /KUBE-|SOMEONE/);
        });
      });
    });
  }
});
