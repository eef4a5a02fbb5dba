// The one validated configuration every part of kproxy reads. Built from a
// KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1) and kube-proxy's flags,
// plus kproxy's own settings. Durations are in milliseconds.
export type ProxyMode = 'userspace' | 'nftables' | 'iptables' | 'ipvs' | 'ebpf';
export type DetectLocalMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix' | 'None';

export interface Config {
  mode: ProxyMode;
  /** Where `mode` came from: a flag, the file, or the default (nothing chose one). */
  modeSource: 'flag' | 'file' | 'default';
  hostnameOverride: string; // "" = the machine's hostname
  /** Primary node IP(s) override (--bind-address / --node-ip-override); "" = from the Node. */
  nodeIPOverride: string[];
  clusterCIDRs: string[];
  detectLocalMode: DetectLocalMode;
  detectLocal: { bridgeInterface: string; interfaceNamePrefix: string };
  /** CIDRs (or "primary") whose local addresses accept NodePorts; [] = mode default. */
  nodePortAddresses: string[];
  masqueradeAll: boolean;
  masqueradeBit: number;
  localhostNodePorts: boolean;
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  healthzBindAddress: string; // "" = disabled
  metricsBindAddress: string; // "" = disabled
  bindAddressHardFail: boolean;
  ipvs: {
    scheduler: string;
    excludeCIDRs: string[];
    strictARP: boolean;
    tcpTimeoutMs: number;
    tcpFinTimeoutMs: number;
    udpTimeoutMs: number;
  };
  conntrack: {
    maxPerCore: number;
    min: number;
    tcpEstablishedTimeoutMs: number;
    tcpCloseWaitTimeoutMs: number;
    tcpBeLiberal: boolean;
    udpTimeoutMs: number;
    udpStreamTimeoutMs: number;
  };
  clientConnection: { kubeconfig: string; qps: number; burst: number; contentType: string; acceptContentTypes: string };
  configSyncPeriodMs: number;
  featureGates: Record<string, boolean>;
  serviceProxyName: string;
  oomScoreAdj: number;
  logVerbosity: number;
  /** --log-format: text, json, or "" (text on a terminal, json otherwise). */
  logFormat: '' | 'text' | 'json';

  // ---- kproxy's own settings (flags) ----
  /** Service CIDRs, as kube-apiserver's --service-cluster-ip-range. */
  serviceClusterIPRange: string[];
  /** NodePort allocation range (kube-apiserver's --service-node-port-range). */
  serviceNodePortRange: { min: number; max: number };
  /** The flags given on the command line (kebab-case, without "--"), so that messages name what the user typed. */
  flagsGiven: string[];
  /** The fields the --config file sets to a non-zero value (full paths, e.g. "ipvs.scheduler"). */
  fileFieldsGiven: string[];
  /** The --config file ("" = none), for messages. */
  configFile: string;
  manifests: string; // "" = not standalone
  kubeconfig: string; // "" = in-cluster (when not standalone)
  master: string;
  clusterDomain: string;
  dnsBindAddress: string; // "" = DNS off
  dnsUpstream: string[];
  dnsTTL: number;
  bpfCgroupRoot: string;
  /** Userspace mode: how long an idle UDP session lives. */
  udpIdleTimeoutMs: number;
  /** Userspace mode: worker processes sharing the TCP listeners; auto = one per core beyond the first. */
  userspaceWorkers: number | 'auto';
}
