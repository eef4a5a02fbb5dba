// The ebpf mode as the registry creates it: socket-level load balancing for ClusterIP
// traffic of the workloads' cgroup, composed with the nftables mode (created through the
// registry, not imported) for NodePort, externalIPs and LoadBalancer IPs.
import type { Dataplane } from '../dataplane.js';
import { createDataplane, type DataplaneContext } from '../registry.js';
import { EbpfDataplane, EbpfKernel } from './apply.js';
import { northSouthState } from './northsouth.js';

export async function create(ctx: DataplaneContext): Promise<Dataplane> {
  const kernel = EbpfKernel.open({ cgroupRoot: ctx.config.bpfCgroupRoot, log: ctx.log });
  const northSouth = await createDataplane({ ...ctx, config: { ...ctx.config, mode: 'nftables' } });
  ctx.log.info({}, 'ebpf mode: NodePort, externalIPs and LoadBalancer IPs (traffic from outside the node) are programmed through the nftables dataplane');
  return new EbpfDataplane(kernel, northSouth, northSouthState);
}
