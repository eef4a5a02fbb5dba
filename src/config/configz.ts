// The configuration in effect, in KubeProxyConfiguration form, for /configz (as kube-proxy
// serves it: {"kubeproxy.config.k8s.io": {...}}), plus kproxy's own settings.
import type { Config } from './types.js';

/** A duration in Go's form (1h0m0s, 30s, 500ms), as kube-proxy prints it. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export function configz(cfg: Config): Record<string, unknown> {
  const d = goDuration;
  const perMode = { syncPeriod: d(cfg.syncPeriodMs), minSyncPeriod: d(cfg.minSyncPeriodMs), masqueradeAll: cfg.masqueradeAll };
  return {
    'kubeproxy.config.k8s.io': {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: cfg.mode,
      hostnameOverride: cfg.hostnameOverride,
      bindAddress: cfg.nodeIPOverride[0] ?? '0.0.0.0',
      healthzBindAddress: cfg.healthzBindAddress,
      metricsBindAddress: cfg.metricsBindAddress,
      bindAddressHardFail: cfg.bindAddressHardFail,
      clusterCIDR: cfg.clusterCIDRs.join(','),
      detectLocalMode: cfg.detectLocalMode,
      detectLocal: { ...cfg.detectLocal },
      nodePortAddresses: [...cfg.nodePortAddresses],
      iptables: { ...perMode, masqueradeBit: cfg.masqueradeBit, localhostNodePorts: cfg.localhostNodePorts },
      nftables: { ...perMode, masqueradeBit: cfg.masqueradeBit },
      ipvs: {
        syncPeriod: d(cfg.syncPeriodMs),
        minSyncPeriod: d(cfg.minSyncPeriodMs),
        scheduler: cfg.ipvs.scheduler,
        excludeCIDRs: [...cfg.ipvs.excludeCIDRs],
        strictARP: cfg.ipvs.strictARP,
        tcpTimeout: d(cfg.ipvs.tcpTimeoutMs),
        tcpFinTimeout: d(cfg.ipvs.tcpFinTimeoutMs),
        udpTimeout: d(cfg.ipvs.udpTimeoutMs),
      },
      conntrack: {
        maxPerCore: cfg.conntrack.maxPerCore,
        min: cfg.conntrack.min,
        tcpEstablishedTimeout: d(cfg.conntrack.tcpEstablishedTimeoutMs),
        tcpCloseWaitTimeout: d(cfg.conntrack.tcpCloseWaitTimeoutMs),
        tcpBeLiberal: cfg.conntrack.tcpBeLiberal,
        udpTimeout: d(cfg.conntrack.udpTimeoutMs),
        udpStreamTimeout: d(cfg.conntrack.udpStreamTimeoutMs),
      },
      clientConnection: { ...cfg.clientConnection },
      configSyncPeriod: d(cfg.configSyncPeriodMs),
      featureGates: { ...cfg.featureGates },
      oomScoreAdj: cfg.oomScoreAdj,
    },
    kproxy: {
      manifests: cfg.manifests,
      kubeconfig: cfg.kubeconfig,
      serviceClusterIPRange: cfg.serviceClusterIPRange.join(','),
      serviceNodePortRange: `${cfg.serviceNodePortRange.min}-${cfg.serviceNodePortRange.max}`,
      clusterDomain: cfg.clusterDomain,
      dnsBindAddress: cfg.dnsBindAddress,
      dnsUpstream: [...cfg.dnsUpstream],
      dnsTTL: cfg.dnsTTL,
      bpfCgroupRoot: cfg.bpfCgroupRoot,
      udpIdleTimeout: d(cfg.udpIdleTimeoutMs),
      logVerbosity: cfg.logVerbosity,
      logFormat: cfg.logFormat || 'auto',
    },
  };
}
