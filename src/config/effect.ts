// Which settings each mode honours. A setting the user gave (a flag, or a non-zero field of
// the --config file) that has no effect in the chosen mode is logged once at start, so that
// no accepted setting silently does nothing. docs/configuration.md is the same table in prose.
import type { Config, ProxyMode } from './types.js';

export interface SettingEffect {
  /** Field path(s) in the KubeProxyConfiguration file; a path ending in "." matches a whole section. */
  fields: readonly string[];
  /** Flags (without "--"). */
  flags: readonly string[];
  /** The modes in which the setting does something; 'all' = every mode. */
  honouredBy: readonly ProxyMode[] | 'all';
  /** Extra condition: has no effect when this returns a reason (e.g. only with a kube source). */
  unless?: (cfg: Config) => string | null;
  /** Why it has no effect (said in the log line). */
  why: string;
}

const KERNEL: readonly ProxyMode[] = ['nftables', 'iptables', 'ipvs', 'ebpf'];

export const SETTINGS: readonly SettingEffect[] = [
  {
    fields: ['conntrack.', 'linux.conntrack.'],
    flags: [
      'conntrack-max-per-core',
      'conntrack-min',
      'conntrack-tcp-timeout-established',
      'conntrack-tcp-timeout-close-wait',
      'conntrack-udp-timeout',
      'conntrack-udp-timeout-stream',
      'conntrack-tcp-be-liberal',
    ],
    honouredBy: KERNEL,
    why: 'the userspace mode terminates connections itself; the kernel conntrack table does not carry them',
  },
  {
    fields: ['iptables.masqueradeAll', 'nftables.masqueradeAll', 'linux.masqueradeAll'],
    flags: ['masquerade-all'],
    honouredBy: KERNEL,
    why: 'a userspace proxy always connects to endpoints from its own address',
  },
  { fields: ['iptables.masqueradeBit', 'nftables.masqueradeBit'], flags: ['iptables-masquerade-bit'], honouredBy: KERNEL, why: 'no packet marks are used' },
  { fields: ['iptables.localhostNodePorts'], flags: ['iptables-localhost-nodeports'], honouredBy: ['iptables'], why: 'only the iptables mode accepts NodePorts on 127.0.0.1 (as upstream)' },
  {
    fields: ['detectLocalMode', 'detectLocal.bridgeInterface', 'detectLocal.interfaceNamePrefix'],
    flags: ['detect-local-mode', 'pod-bridge-interface', 'pod-interface-name-prefix'],
    honouredBy: KERNEL,
    why: 'the userspace mode does not tell pod traffic apart',
  },
  { fields: ['ipvs.scheduler'], flags: ['ipvs-scheduler'], honouredBy: ['ipvs', 'userspace'], why: 'kernel rules pick endpoints with equal probability' },
  {
    fields: ['ipvs.excludeCIDRs', 'ipvs.strictARP', 'ipvs.tcpTimeout', 'ipvs.tcpFinTimeout', 'ipvs.udpTimeout'],
    flags: ['ipvs-exclude-cidrs', 'ipvs-strict-arp', 'ipvs-tcp-timeout', 'ipvs-tcpfin-timeout', 'ipvs-udp-timeout'],
    honouredBy: ['ipvs'],
    why: 'it is an IPVS setting',
  },
  {
    fields: ['iptables.syncPeriod', 'iptables.minSyncPeriod'],
    flags: ['iptables-sync-period', 'iptables-min-sync-period'],
    honouredBy: ['iptables'],
    why: 'it sets the sync periods of the iptables mode only',
  },
  {
    fields: ['nftables.syncPeriod', 'nftables.minSyncPeriod'],
    flags: ['nftables-sync-period', 'nftables-min-sync-period'],
    honouredBy: ['nftables'],
    why: 'it sets the sync periods of the nftables mode only',
  },
  { fields: ['ipvs.syncPeriod', 'ipvs.minSyncPeriod'], flags: ['ipvs-sync-period', 'ipvs-min-sync-period'], honouredBy: ['ipvs'], why: 'it sets the sync periods of the ipvs mode only' },
  { fields: [], flags: ['bpf-cgroup-root'], honouredBy: ['ebpf'], why: 'it is a setting of the ebpf mode' },
  { fields: [], flags: ['userspace-workers'], honouredBy: ['userspace'], why: 'it sets the worker processes of the userspace proxy' },
  { fields: [], flags: ['udp-idle-timeout'], honouredBy: ['userspace'], why: 'kernel modes leave UDP flows to conntrack (--conntrack-udp-timeout)' },
  { fields: ['configSyncPeriod'], flags: ['config-sync-period'], honouredBy: [], why: "kproxy's watches do not resync periodically (a relist happens after a watch error)" },
  { fields: ['iptables.snatNodeInternalIP'], flags: [], honouredBy: [], why: "not built: masquerading uses the egress interface's address" },
  { fields: ['enableProfiling'], flags: ['profiling'], honouredBy: [], why: 'kproxy serves no profiling endpoint' },
  { fields: ['portRange', 'udpIdleTimeout'], flags: [], honouredBy: [], why: "it belonged to kube-proxy's removed userspace mode" },
  { fields: ['showHiddenMetricsForVersion'], flags: ['show-hidden-metrics-for-version'], honouredBy: [], why: 'kproxy has no hidden metrics' },
  { fields: ['windowsRunAsService', 'winkernel.'], flags: [], honouredBy: [], why: 'it is a Windows setting' },
  { fields: ['logging.'], flags: ['log-flush-frequency', 'vmodule'], honouredBy: [], why: 'kproxy logs with --v and --log-format' },
  { fields: ['clientConnection.contentType', 'clientConnection.acceptContentTypes'], flags: ['kube-api-content-type'], honouredBy: [], why: 'kproxy talks JSON to the API server' },
  {
    fields: ['clientConnection.kubeconfig', 'clientConnection.qps', 'clientConnection.burst'],
    flags: ['kubeconfig', 'master', 'kube-api-qps', 'kube-api-burst'],
    honouredBy: 'all',
    unless: (c) => (c.manifests ? 'with --manifests there is no API server' : null),
    why: '',
  },
  {
    fields: [],
    flags: ['service-node-port-range'],
    honouredBy: 'all',
    unless: (c) => (c.manifests ? null : 'the API server allocates NodePorts; kproxy only allocates them with --manifests'),
    why: '',
  },
];

/** One line per given setting that has no effect in cfg.mode. */
export function settingsWithoutEffect(cfg: Config): string[] {
  const out: string[] = [];
  for (const s of SETTINGS) {
    const given = [
      ...s.flags.filter((f) => cfg.flagsGiven.includes(f)).map((f) => `--${f}`),
      ...cfg.fileFieldsGiven.filter((g) => s.fields.some((f) => (f.endsWith('.') ? g.startsWith(f) : g === f))),
    ];
    if (given.length === 0) continue;
    const honoured = s.honouredBy === 'all' || s.honouredBy.includes(cfg.mode);
    const reason = !honoured ? s.why : (s.unless?.(cfg) ?? null);
    if (reason === null) continue;
    const where = s.honouredBy === 'all' || honoured ? '' : ` in ${cfg.mode} mode`;
    out.push(`${given.join(', ')}: no effect${where}: ${reason}`);
  }
  return out;
}
