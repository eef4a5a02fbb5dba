// The synthetic cluster of the per-mode benchmarks is the cross-mode bench's (src/bench/cluster.ts):
// N ClusterIP Services × E endpoints, the first and the last Service on the two real Pods of
// the bench topology, every other endpoint a fake address spread over 100 nodes.
import { BENCH_ADDR } from '../../src/bench/topology.js';

export { NODE, serviceIP, serviceObject, sliceObject } from '../../src/bench/cluster.js';
export { POD_PORT } from '../../src/bench/topology.js';
export const REAL_PODS = [BENCH_ADDR.pod1, BENCH_ADDR.pod2];
