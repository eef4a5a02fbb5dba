// Runs inside a test network namespace (netns-guard checks): the nftables applier as kproxy
// uses it, with the scenario named in argv[2].
//  - killed-mid-sync: a full-size transaction whose text is still being produced when the
//    process is killed with SIGKILL (as `kill -9` during a full sync);
//  - replace: one sync of a small state by a fresh dataplane (a restarted kproxy).
import { assertInTestNetns } from '../netns-guard.js';
import { runNft } from '../../../src/dataplanes/nftables/nft.js';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/apply.js';
import { ProxyMetrics } from '../../../src/metrics/metrics.js';
import { silentLogger } from '../../../src/util/log.js';
import { config, ep, service, slice, stateOf } from '../../dataplanes/nftables/helpers.js';

assertInTestNetns();
const scenario = process.argv[2];

if (scenario === 'killed-mid-sync') {
  async function* text(): AsyncGenerator<string> {
    // The declarations: table, chains and an empty map, as a full sync sends them first.
    const head = ['add table ip kproxy', 'add map ip kproxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }'];
    for (let i = 0; i < 2000; i++) head.push(`add chain ip kproxy svc-${i}`);
    yield head.join('\n') + '\n';
    await new Promise((r) => setTimeout(r, 300)); // nft is parsing; the elements are being built
    process.kill(process.pid, 'SIGKILL');
    yield 'add element ip kproxy service-ips { 10.96.0.1 . tcp . 80 : goto svc-0 }\n';
  }
  await runNft(text());
} else if (scenario === 'replace') {
  const port80 = [{ name: 'p80', port: 80, protocol: 'TCP' }];
  const { state } = stateOf([service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: port80 }), slice('ns1', 'svc1', [ep('10.180.0.1', 'node1')], port80)]);
  const dp = new NftablesDataplane(config(), silentLogger(), new ProxyMetrics().registry);
  await dp.sync(state, true);
}
