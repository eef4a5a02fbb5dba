// The iptables flows of the shared conformance data, replayed with real packets in network
// namespaces: kproxy's iptables applier (iptables-nft backend, the tools run under
// `ip netns exec` in the node namespace) programs the node step by step, as the nftables
// replay does (conformance-replay.ts has the topology and the judging).
//
// Flows the topology cannot express, and why (the suite prints each one it skips):
//  - IPv6 tests: the replay topology is IPv4 only;
//  - SCTP flows: no SCTP client here;
//  - UDP flows that expect REJECT or DROP: an unconnected UDP client cannot tell them apart;
//  - a source equal to the destination that is not a node address (the node reaching its own
//    LoadBalancer IP through the load balancer): no namespace can send that packet.
// Flows from 127.0.0.1 (localhost NodePorts) are sent from the node namespace itself, with
// route_localnet as the applier sets it. One applier serves consecutive tests of the same
// configuration: each such test starts with a partial sync (reuseDataplane).
import { IptablesDataplane } from '../../src/dataplanes/iptables/apply.js';
import { toolsFor } from '../../src/dataplanes/iptables/backend.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { silentLogger } from '../../src/util/log.js';
import { replayConformance } from './conformance-replay.js';

replayConformance({
  mode: 'iptables',
  tag: 'ic',
  reuseDataplane: true,
  dataplane: (config, topo) =>
    new IptablesDataplane(config, silentLogger(), new ProxyMetrics().registry, { tools: toolsFor('nft', 'test', ['ip', 'netns', 'exec', topo.ns('node')]), timeoutMs: 60_000 }),
});
