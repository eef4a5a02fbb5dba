// The few iptables rules kube-proxy's IPVS mode still needs, one family at a time. They are
// fixed: what varies with the Services lives in the ipsets (ipsets.ts) they match, so a
// Service change never rewrites a rule. Applied with `iptables-restore --noflush`, which
// replaces kproxy's KUBE-* chains wholesale and leaves every other chain alone; the jumps
// from the built-in chains are ensured one by one (see jumps).
import { parseCIDR, type IPFamily } from '../../api/ip.js';
import type { Config } from '../../config/types.js';
import type { NodeInfo } from '../../model/types.js';
import { setName } from './ipsets.js';

export type IptablesConfig = Pick<Config, 'masqueradeAll' | 'masqueradeBit' | 'detectLocalMode' | 'clusterCIDRs' | 'detectLocal'>;

export const NAT_CHAINS = ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'] as const;
export const FILTER_CHAINS = ['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-NO-ENDPOINTS'] as const;

export interface Jump {
  table: 'nat' | 'filter';
  chain: string;
  /** The rule's arguments after `-A <chain>`. */
  rule: string[];
}

/** Jumps from the built-in chains into kproxy's, inserted first if missing. */
export function jumps(): Jump[] {
  const j = (table: Jump['table'], chain: string, target: string, comment: string, extra: string[] = []): Jump => ({
    table,
    chain,
    rule: [...extra, '-m', 'comment', '--comment', comment, '-j', target],
  });
  const isNew = ['-m', 'conntrack', '--ctstate', 'NEW'];
  return [
    j('nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals'),
    j('nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals'),
    j('nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules'),
    j('filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kube-proxy firewall rules', isNew),
    j('filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kube-proxy firewall rules', isNew),
    j('filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', 'kube-proxy firewall rules', isNew),
    j('filter', 'INPUT', 'KUBE-IPVS-NO-ENDPOINTS', 'service addresses without endpoints', isNew),
    j('filter', 'OUTPUT', 'KUBE-IPVS-NO-ENDPOINTS', 'service addresses without endpoints', isNew),
    j('filter', 'INPUT', 'KUBE-NODE-PORT', 'kubernetes health check rules'),
    j('filter', 'INPUT', 'KUBE-IPVS-FILTER', 'kubernetes ipvs access filter'),
    j('filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules'),
  ];
}

/** The "not from this node's pods" match of --detect-local-mode; null: no detector. */
export function notLocalMatch(config: IptablesConfig, node: Pick<NodeInfo, 'podCIDRs'>, family: IPFamily): string | null {
  const cidr = (list: readonly string[]) => list.map((c) => parseCIDR(c)).find((c) => c?.family === family)?.cidr;
  switch (config.detectLocalMode) {
    case 'ClusterCIDR': {
      const c = cidr(config.clusterCIDRs);
      return c ? `! -s ${c}` : null;
    }
    case 'NodeCIDR': {
      const c = cidr(node.podCIDRs);
      return c ? `! -s ${c}` : null;
    }
    case 'InterfaceNamePrefix':
      return `! -i ${config.detectLocal.interfaceNamePrefix}+`;
    case 'BridgeInterface':
      return `! -i ${config.detectLocal.bridgeInterface}`;
    case 'None':
      return null;
  }
}

const c = (text: string) => `-m comment --comment "${text}"`;

/** `iptables-restore --noflush` input for one family: the nat and filter tables. */
export function renderIptables(config: IptablesConfig, node: Pick<NodeInfo, 'podCIDRs'>, family: IPFamily): string {
  const s = (k: Parameters<typeof setName>[0]) => setName(k, family);
  const mark = `0x${(1 << config.masqueradeBit).toString(16)}`;
  const masqMark = `${mark}/${mark}`;
  const notLocal = notLocalMatch(config, node, family);
  const reject = `REJECT --reject-with ${family === 'IPv4' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`;
  const nat: string[] = ['*nat', ...NAT_CHAINS.map((ch) => `:${ch} - [0:0]`)];
  const A = (out: string[], chain: string, rule: string) => out.push(`-A ${chain} ${rule}`);

  // Masquerade decisions: ClusterIP traffic from outside the pod network (or all of it with
  // --masquerade-all); external IPs and LB IPs unless eTP Local; node ports unless eTP Local.
  if (config.masqueradeAll) A(nat, 'KUBE-SERVICES', `${c('Kubernetes service cluster ip + port for masquerade purpose')} -m set --match-set ${s('clusterIP')} dst,dst -j KUBE-MARK-MASQ`);
  // Address and interface matches first: iptables-save prints them there, and `kproxy rules`
  // should read like iptables-save.
  else if (notLocal) A(nat, 'KUBE-SERVICES', `${notLocal} ${c('Kubernetes service cluster ip + port for masquerade purpose')} -m set --match-set ${s('clusterIP')} dst,dst -j KUBE-MARK-MASQ`);
  A(nat, 'KUBE-SERVICES', `${c('Kubernetes service external ip + port for masquerade purpose')} -m set --match-set ${s('externalIP')} dst,dst -j KUBE-MARK-MASQ`);
  A(nat, 'KUBE-SERVICES', `${c('Kubernetes service lb portal')} -m set --match-set ${s('loadBalancer')} dst,dst -j KUBE-LOAD-BALANCER`);
  A(nat, 'KUBE-SERVICES', `-m addrtype --dst-type LOCAL -j KUBE-NODE-PORT`);
  A(nat, 'KUBE-SERVICES', `-m set --match-set ${s('clusterIP')} dst,dst -j ACCEPT`);
  A(nat, 'KUBE-SERVICES', `-m set --match-set ${s('loadBalancer')} dst,dst -j ACCEPT`);
  A(nat, 'KUBE-LOAD-BALANCER', `${c('Kubernetes service load balancer ip + port with externalTrafficPolicy=local')} -m set --match-set ${s('loadBalancerLocal')} dst,dst -j RETURN`);
  A(nat, 'KUBE-LOAD-BALANCER', '-j KUBE-MARK-MASQ');
  for (const [proto, all, local] of [
    ['tcp', 'nodePortTCP', 'nodePortLocalTCP'],
    ['udp', 'nodePortUDP', 'nodePortLocalUDP'],
  ] as const) {
    A(nat, 'KUBE-NODE-PORT', `-p ${proto} ${c(`Kubernetes nodeport ${proto.toUpperCase()} port with externalTrafficPolicy=local`)} -m set --match-set ${s(local)} dst -j RETURN`);
    A(nat, 'KUBE-NODE-PORT', `-p ${proto} ${c(`Kubernetes nodeport ${proto.toUpperCase()} port for masquerade purpose`)} -m set --match-set ${s(all)} dst -j KUBE-MARK-MASQ`);
  }
  A(nat, 'KUBE-NODE-PORT', `-p sctp -m set --match-set ${s('nodePortLocalSCTP')} dst,dst -j RETURN`);
  A(nat, 'KUBE-NODE-PORT', `-p sctp -m set --match-set ${s('nodePortSCTP')} dst,dst -j KUBE-MARK-MASQ`);
  A(nat, 'KUBE-POSTROUTING', `${c('Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose')} -m set --match-set ${s('loopBack')} dst,dst,src -j MASQUERADE`);
  A(nat, 'KUBE-POSTROUTING', `-m mark ! --mark ${masqMark} -j RETURN`);
  // MARK and REJECT in the form iptables-save prints them (--xor-mark, --or-mark and a bare
  // REJECT are read back as these), so `kproxy rules` and iptables-save agree line for line.
  A(nat, 'KUBE-POSTROUTING', `-j MARK --set-xmark ${mark}/0x0`);
  A(nat, 'KUBE-POSTROUTING', `${c('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`);
  A(nat, 'KUBE-MARK-MASQ', `-j MARK --set-xmark ${mark}/${mark}`);
  nat.push('COMMIT');

  const filter: string[] = ['*filter', ...FILTER_CHAINS.map((ch) => `:${ch} - [0:0]`)];
  A(
    filter,
    'KUBE-PROXY-FIREWALL',
    `${c('Kubernetes service load balancer ip + port for load balancer with sourceRange')} -m set --match-set ${s('loadBalancerFW')} dst,dst -j KUBE-SOURCE-RANGES-FIREWALL`,
  );
  A(
    filter,
    'KUBE-SOURCE-RANGES-FIREWALL',
    `${c('Kubernetes service load balancer ip + port + source cidr for packet filter purpose')} -m set --match-set ${s('loadBalancerSourceCIDR')} dst,dst,src -j RETURN`,
  );
  A(filter, 'KUBE-SOURCE-RANGES-FIREWALL', '-j DROP');
  A(filter, 'KUBE-IPVS-NO-ENDPOINTS', `${c('service has no endpoints')} -m set --match-set ${s('noEndpointsReject')} dst,dst -j ${reject}`);
  A(filter, 'KUBE-IPVS-NO-ENDPOINTS', `${c('service has no usable endpoints for its traffic policy')} -m set --match-set ${s('noEndpointsDrop')} dst,dst -j DROP`);
  A(filter, 'KUBE-NODE-PORT', `${c('Kubernetes health check node port')} -m set --match-set ${s('healthCheckNodePort')} dst -j ACCEPT`);
  for (const k of ['loadBalancer', 'clusterIP', 'externalIP', 'externalIPLocal'] as const) A(filter, 'KUBE-IPVS-FILTER', `-m set --match-set ${s(k)} dst,dst -j RETURN`);
  A(filter, 'KUBE-IPVS-FILTER', `-m set --match-set ${s('healthCheckNodePort')} dst -j RETURN`);
  A(filter, 'KUBE-IPVS-FILTER', `${c('reject traffic to kube-ipvs0 addresses on ports that are no service port')} -m conntrack --ctstate NEW -m set --match-set ${s('ipvsIPs')} dst -j ${reject}`);
  A(filter, 'KUBE-FORWARD', `${c('kubernetes forwarding rules')} -m mark --mark ${masqMark} -j ACCEPT`);
  A(filter, 'KUBE-FORWARD', `${c('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
  filter.push('COMMIT');
  return nat.join('\n') + '\n' + filter.join('\n') + '\n';
}

const quote = (a: string) => (/[\s"]/.test(a) ? `"${a}"` : a);

/** The jumps that `iptables-save` output does not show yet. */
export function missingJumps(saved: string): Jump[] {
  const have = new Map<string, Set<string>>();
  let table = '';
  for (const line of saved.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith('-A ')) {
      if (!have.has(table)) have.set(table, new Set());
      have.get(table)!.add(line.trim());
    }
  }
  return jumps().filter((j) => !have.get(j.table)?.has(`-A ${j.chain} ${j.rule.map(quote).join(' ')}`));
}

/** The restore input with the given jumps inserted at the top of their built-in chains. */
export function withJumps(text: string, missing: Jump[]): string {
  let out = text;
  for (const table of ['nat', 'filter'] as const) {
    // Reversed, so that inserting each at position 1 leaves them in jumps() order.
    const lines = missing
      .filter((j) => j.table === table)
      .reverse()
      .map((j) => `-I ${j.chain} 1 ${j.rule.map(quote).join(' ')}`);
    if (lines.length === 0) continue;
    const start = out.indexOf(`*${table}\n`);
    const commit = out.indexOf('COMMIT', start);
    out = out.slice(0, commit) + lines.join('\n') + '\n' + out.slice(commit);
  }
  return out;
}
