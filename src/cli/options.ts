// The configuration flags every subcommand accepts, named as kube-proxy (and, for kproxy's
// own settings, kube-apiserver) name them. Values are validated by config/load.ts.
import { Command, Option } from 'commander';
import { loadConfig, type FlagValues } from '../config/load.js';
import type { Config } from '../config/types.js';
import { builtModes, DEFAULT_MODE } from './mode.js';

function modeHelp(): string {
  const built = builtModes();
  const missing = (['userspace', 'nftables', 'iptables', 'ipvs', 'ebpf'] as const).filter((m) => !built.includes(m));
  return `dataplane: ${built.join(', ')}${missing.length ? ` (not built yet: ${missing.join(', ')})` : ''}; default ${DEFAULT_MODE}, as kube-proxy`;
}

/**
 * Where a flag matters: `state` for every subcommand that reads a folder (services, rules,
 * trace, run), `ruleset` for those that compile rules (rules, trace, run), `live` for those
 * that talk to a running kproxy (services --live, trace --live, run), `run` for the proxy only.
 * Every subcommand accepts every flag (one configuration for all); its help lists only the
 * flags it uses.
 */
export type FlagScope = 'state' | 'ruleset' | 'live' | 'run';
export type Subcommand = 'run' | 'services' | 'rules' | 'trace';

const SHOWN: Record<Subcommand, readonly FlagScope[]> = {
  run: ['state', 'ruleset', 'live', 'run'],
  services: ['state', 'live'],
  rules: ['state', 'ruleset'],
  trace: ['state', 'ruleset', 'live'],
};

export function addConfigOptions(cmd: Command, command: Subcommand = 'run'): Command {
  const opt = (scope: FlagScope, flags: string, help: string) => {
    const o = new Option(flags, help);
    if (!SHOWN[command].includes(scope)) o.hideHelp();
    cmd.addOption(o);
  };
  opt('state', '--config <file>', 'a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) file; flags override it');
  opt('state', '--proxy-mode <mode>', modeHelp());
  opt('state', '--manifests <dir>', 'standalone: a folder of Kubernetes YAML is the API server');
  opt('run', '--kubeconfig <file>', 'kubeconfig of the cluster to watch (default: in-cluster service account)');
  opt('run', '--master <url>', 'API server address, overriding the kubeconfig');
  opt('state', '--hostname-override <node>', "this node's name (default: the machine's hostname)");
  opt('state', '--bind-address <ip>', "primary node IP (kube-proxy's older name for --node-ip-override)");
  opt('state', '--node-ip-override <ips>', 'primary node IP(s), comma-separated, one per family');
  opt('ruleset', '--cluster-cidr <cidrs>', 'pod CIDR(s), comma-separated, for the ClusterCIDR local-traffic detector');
  opt('ruleset', '--detect-local-mode <mode>', 'how pod traffic is told apart: ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix or None');
  opt('ruleset', '--pod-bridge-interface <name>', 'bridge interface of the pods (BridgeInterface mode)');
  opt('ruleset', '--pod-interface-name-prefix <prefix>', 'interface name prefix of the pods (InterfaceNamePrefix mode)');
  opt('ruleset', '--nodeport-addresses <cidrs>', 'CIDRs, or the keywords primary, all, localhost, whose local addresses accept NodePorts');
  // kube-proxy's boolean flags take an optional value, as Go's pflag: --masquerade-all=false
  opt('ruleset', '--masquerade-all [bool]', 'SNAT all traffic sent via Service cluster IPs');
  opt('state', '--service-cluster-ip-range <cidrs>', 'service CIDR(s), one per family (as kube-apiserver names it)');
  opt('state', '--service-node-port-range <range>', 'NodePort allocation range in standalone mode (default 30000-32767)');
  opt('run', '--healthz-bind-address <ip:port>', 'health server address (default 0.0.0.0:10256; "" disables)');
  opt('live', '--metrics-bind-address <ip:port>', 'metrics server address (default 127.0.0.1:10249; "" disables)');
  opt('run', '--bind-address-hard-fail [bool]', 'exit when a server port cannot be bound');
  opt('run', '--sync-period <duration>', 'full resync period (default 30s)');
  opt('run', '--min-sync-period <duration>', 'minimum interval between syncs (default 1s)');
  opt('run', '--iptables-sync-period <duration>', 'iptables mode: --sync-period');
  opt('run', '--iptables-min-sync-period <duration>', 'iptables mode: --min-sync-period');
  opt('run', '--nftables-sync-period <duration>', 'nftables mode: --sync-period');
  opt('run', '--nftables-min-sync-period <duration>', 'nftables mode: --min-sync-period');
  opt('run', '--ipvs-sync-period <duration>', 'ipvs mode: --sync-period');
  opt('run', '--ipvs-min-sync-period <duration>', 'ipvs mode: --min-sync-period');
  opt('ruleset', '--iptables-masquerade-bit <bit>', 'fwmark bit for SNAT (default 14, mark 0x4000)');
  opt('ruleset', '--iptables-localhost-nodeports [bool]', 'iptables, IPv4: accept NodePorts on 127.0.0.1 (default true)');
  opt('ruleset', '--ipvs-scheduler <name>', 'scheduler: ipvs mode rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh; userspace mode rr, random, lc, sed, nq, dh, sh, maglev, p2c');
  opt('ruleset', '--ipvs-exclude-cidrs <cidrs>', 'ipvs: virtual servers in these CIDRs are left alone');
  opt('run', '--ipvs-strict-arp [bool]', 'ipvs: arp_ignore=1, arp_announce=2 (kube-ipvs0 addresses are not announced)');
  opt('run', '--ipvs-tcp-timeout <duration>', 'ipvs: idle timeout of TCP connections (0 = leave as is)');
  opt('run', '--ipvs-tcpfin-timeout <duration>', 'ipvs: timeout of TCP connections after FIN (0 = leave as is)');
  opt('run', '--ipvs-udp-timeout <duration>', 'ipvs: UDP timeout (0 = leave as is)');
  opt('run', '--kube-api-qps <qps>', 'API client QPS (default 5)');
  opt('run', '--kube-api-burst <n>', 'API client burst (default 10)');
  opt('run', '--config-sync-period <duration>', 'informer resync period (default 15m)');
  opt('run', '--conntrack-max-per-core <n>', 'conntrack entries per core (default 32768)');
  opt('run', '--conntrack-min <n>', 'minimum conntrack entries (default 131072)');
  opt('run', '--conntrack-tcp-timeout-established <duration>', 'idle timeout of established TCP (default 24h)');
  opt('run', '--conntrack-tcp-timeout-close-wait <duration>', 'CLOSE_WAIT timeout (default 1h)');
  opt('run', '--conntrack-udp-timeout <duration>', 'UDP conntrack timeout (0 = leave as is)');
  opt('run', '--conntrack-udp-timeout-stream <duration>', 'UDP stream conntrack timeout (0 = leave as is)');
  opt('ruleset', '--conntrack-tcp-be-liberal [bool]', 'set nf_conntrack_tcp_be_liberal=1 (the iptables mode then keeps out-of-window TCP packets)');
  opt('state', '--feature-gates <gates>', 'Name=true|false,... (e.g. PreferSameTrafficDistribution=false)');
  opt('run', '--oom-score-adj <n>', 'oom_score_adj for the process (default -999)');
  opt('run', '--cluster-domain <domain>', 'DNS domain of the cluster (default cluster.local)');
  opt('run', '--dns-bind-address <ip:port>', 'address of the cluster DNS server ("off" disables)');
  opt('run', '--dns-upstream <servers>', 'forward names outside the cluster domain to these servers (default: REFUSED)');
  opt('run', '--dns-ttl <seconds>', 'TTL of DNS answers (default 5)');
  opt('run', '--bpf-cgroup-root <dir>', 'ebpf mode: the cgroup v2 directory whose sockets are load-balanced');
  opt('run', '--udp-idle-timeout <duration>', 'userspace mode: idle UDP sessions end after this (default 30s)');
  opt('run', '--userspace-workers <N|auto>', 'userspace mode: worker processes that also accept TCP connections (default auto: one per core beyond the first, one per two cores on the splice path)');
  opt('run', '-v, --v <level>', 'log verbosity (0-10)');
  opt('run', '--log-format <format>', 'text (one readable line per event; the default on a terminal) or json (the default otherwise)');
  opt('run', '--logging-format <format>', "kube-proxy's name for --log-format");
  // kube-proxy flags kproxy accepts so that a kube-proxy command line runs unchanged; each one
  // given is logged at start as having no effect (config/effect.ts), and listed in
  // docs/configuration.md.
  for (const f of ['--profiling [bool]', '--show-hidden-metrics-for-version <version>', '--kube-api-content-type <type>', '--log-flush-frequency <duration>', '--vmodule <pattern>']) {
    cmd.addOption(new Option(f).hideHelp());
  }
  return cmd;
}

/**
 * Builds the validated Config from a subcommand's parsed options. Every subcommand has the
 * same mode default (iptables, as upstream), so that they agree on what a folder means
 * (the service CIDR default, hence the allocations, depends on the mode).
 */
export function configFrom(opts: FlagValues): Config {
  return loadConfig({ flags: opts, defaultMode: DEFAULT_MODE });
}
