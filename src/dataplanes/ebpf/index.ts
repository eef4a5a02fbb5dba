// The ebpf mode as the registry creates it: socket-level load balancing for ClusterIP
// traffic of the workloads' cgroup, composed with the nftables mode for NodePort, externalIPs
// and LoadBalancer IPs. The registry hands in the nftables factory, so this mode imports no
// other dataplane.
import type { AppliedRuleset, Dataplane, DataplaneContext } from '../dataplane.js';
import { EbpfDataplane, EbpfKernel } from './apply.js';
import { decode } from './decode.js';
import { joinRulesText, namesOf } from './inspect.js';
import { northSouthState } from './northsouth.js';

export async function create(ctx: DataplaneContext, nftables: (ctx: DataplaneContext) => Promise<Dataplane>): Promise<Dataplane> {
  const kernel = EbpfKernel.open({ cgroupRoot: ctx.config.bpfCgroupRoot, log: ctx.log });
  let nft: AppliedRuleset | null = null;
  const northSouth = await nftables({ ...ctx, config: { ...ctx.config, mode: 'nftables' }, publishRuleset: ctx.publishRuleset ? (r) => (nft = r) : undefined });
  ctx.log.info({}, 'ebpf mode: NodePort, externalIPs and LoadBalancer IPs (traffic from outside the node) are programmed through the nftables dataplane');
  const publish = ctx.publishRuleset;
  return new EbpfDataplane(kernel, northSouth, northSouthState, (state) =>
    publish?.({
      mode: 'ebpf',
      appliedAt: new Date(),
      generation: state.generation,
      node: state.node.name,
      nodeAddresses: state.node.addresses,
      // The kernel's maps as they are now, decoded, then the nftables part as committed.
      render: () => joinRulesText(decode(kernel.maps), namesOf(kernel.tables.list().map((p) => p.entry)), nft?.render() ?? ''),
    }),
  );
}
