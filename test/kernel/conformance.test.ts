// The nftables flows of the shared conformance data, replayed with real packets in network
// namespaces (conformance-replay.ts has the topology and the judging).
import { NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { collectText } from '../../src/dataplanes/nftables/nft.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/util/log.js';
import { replayConformance } from './conformance-replay.js';

replayConformance({
  mode: 'nftables',
  tag: 'cf',
  dataplane: (config, topo) => new NftablesDataplane(config, silentLogger(), new ProxyMetrics().registry, { nft: async (input) => topo.nft(await collectText(input)) }),
});
