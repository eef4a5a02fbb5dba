// The configuration flags every subcommand accepts, named as kube-proxy (and, for kproxy's
// own settings, kube-apiserver) name them. Values are validated by config/load.ts.
import { Command, Option } from 'commander';
import { loadConfig, type FlagValues } from '../config/load.js';
import type { Config, ProxyMode } from '../config/types.js';

export function addConfigOptions(cmd: Command): Command {
  const opt = (flags: string, help: string) => cmd.addOption(new Option(flags, help));
  opt('--config <file>', 'a KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1) file; flags override it');
  opt('--proxy-mode <mode>', 'dataplane: userspace, nftables, iptables, ipvs or ebpf (default: userspace with --manifests, iptables otherwise)');
  opt('--manifests <dir>', 'standalone: a folder of Kubernetes YAML is the API server');
  opt('--kubeconfig <file>', 'kubeconfig of the cluster to watch (default: in-cluster service account)');
  opt('--master <url>', 'API server address, overriding the kubeconfig');
  opt('--hostname-override <node>', "this node's name (default: the machine's hostname)");
  opt('--bind-address <ip>', "primary node IP (kube-proxy's older name for --node-ip-override)");
  opt('--node-ip-override <ips>', 'primary node IP(s), comma-separated, one per family');
  opt('--cluster-cidr <cidrs>', 'pod CIDR(s), comma-separated, for the ClusterCIDR local-traffic detector');
  opt('--detect-local-mode <mode>', 'how pod traffic is told apart: ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix or None');
  opt('--pod-bridge-interface <name>', 'bridge interface of the pods (BridgeInterface mode)');
  opt('--pod-interface-name-prefix <prefix>', 'interface name prefix of the pods (InterfaceNamePrefix mode)');
  opt('--nodeport-addresses <cidrs>', 'CIDRs (or "primary") whose local addresses accept NodePorts');
  opt('--masquerade-all', 'SNAT all traffic sent via Service cluster IPs');
  opt('--service-cluster-ip-range <cidrs>', 'service CIDR(s), one per family (as kube-apiserver names it)');
  opt('--service-node-port-range <range>', 'NodePort allocation range in standalone mode (default 30000-32767)');
  opt('--healthz-bind-address <ip:port>', 'health server address (default 0.0.0.0:10256; "" disables)');
  opt('--metrics-bind-address <ip:port>', 'metrics server address (default 127.0.0.1:10249; "" disables)');
  opt('--bind-address-hard-fail', 'exit when a server port cannot be bound');
  opt('--sync-period <duration>', 'full resync period (default 30s)');
  opt('--min-sync-period <duration>', 'minimum interval between syncs (default 1s)');
  opt('--iptables-sync-period <duration>', 'iptables mode: --sync-period');
  opt('--iptables-min-sync-period <duration>', 'iptables mode: --min-sync-period');
  opt('--nftables-sync-period <duration>', 'nftables mode: --sync-period');
  opt('--nftables-min-sync-period <duration>', 'nftables mode: --min-sync-period');
  opt('--ipvs-sync-period <duration>', 'ipvs mode: --sync-period');
  opt('--ipvs-min-sync-period <duration>', 'ipvs mode: --min-sync-period');
  opt('--iptables-masquerade-bit <bit>', 'fwmark bit for SNAT (default 14, mark 0x4000)');
  opt('--iptables-localhost-nodeports <bool>', 'iptables, IPv4: accept NodePorts on 127.0.0.1 (default true)');
  opt('--ipvs-scheduler <name>', 'scheduler (ipvs and userspace modes): rr, random, lc, sed, nq, dh, sh, maglev, p2c');
  opt('--ipvs-exclude-cidrs <cidrs>', 'ipvs: virtual servers in these CIDRs are left alone');
  opt('--kube-api-qps <qps>', 'API client QPS (default 5)');
  opt('--kube-api-burst <n>', 'API client burst (default 10)');
  opt('--config-sync-period <duration>', 'informer resync period (default 15m)');
  opt('--conntrack-max-per-core <n>', 'conntrack entries per core (default 32768)');
  opt('--conntrack-min <n>', 'minimum conntrack entries (default 131072)');
  opt('--conntrack-tcp-timeout-established <duration>', 'idle timeout of established TCP (default 24h)');
  opt('--conntrack-tcp-timeout-close-wait <duration>', 'CLOSE_WAIT timeout (default 1h)');
  opt('--conntrack-udp-timeout <duration>', 'UDP conntrack timeout (0 = leave as is)');
  opt('--conntrack-udp-timeout-stream <duration>', 'UDP stream conntrack timeout (0 = leave as is)');
  opt('--feature-gates <gates>', 'Name=true|false,... (e.g. PreferSameTrafficDistribution=false)');
  opt('--oom-score-adj <n>', 'oom_score_adj for the process (default -999)');
  opt('--cluster-domain <domain>', 'DNS domain of the cluster (default cluster.local)');
  opt('--dns-bind-address <ip:port>', 'address of the cluster DNS server ("off" disables)');
  opt('--dns-upstream <servers>', 'forward names outside the cluster domain to these servers (default: REFUSED)');
  opt('--dns-ttl <seconds>', 'TTL of DNS answers (default 5)');
  opt('--bpf-cgroup-root <dir>', 'ebpf mode: the cgroup v2 directory whose sockets are load-balanced');
  opt('--udp-idle-timeout <duration>', 'userspace mode: idle UDP sessions end after this (default 30s)');
  opt('--userspace-workers <N|auto>', 'userspace mode: worker processes that also accept TCP connections (default auto: one per core beyond the first)');
  opt('--v <level>', 'log verbosity (0-10)');
  return cmd;
}

/** Builds the validated Config from a subcommand's parsed options. */
export function configFrom(opts: FlagValues): Config {
  const defaultMode: ProxyMode = opts.manifests ? 'userspace' : 'iptables';
  return loadConfig({ flags: opts, defaultMode });
}
