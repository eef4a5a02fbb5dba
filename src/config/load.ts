// Configuration: upstream's defaults, then the KubeProxyConfiguration file, then flags.
// Every problem names the field (or flag) and the form that was expected; nothing starts
// with a configuration that did not validate.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { joinHostPort, parseCIDR, parseIP } from '../api/ip.js';
import { ConfigError, fsReason } from '../util/errors.js';
import { refuseHarmfulSettings } from './refuse.js';
import { closest } from '../util/closest.js';
import { parseDuration } from './duration.js';
import { checkFeatureGates } from './feature-gates.js';
import type { Config, DetectLocalMode, ProxyMode } from './types.js';

export const PROXY_MODES: readonly ProxyMode[] = ['userspace', 'nftables', 'iptables', 'ipvs', 'ebpf'];
export const DETECT_LOCAL_MODES: readonly DetectLocalMode[] = ['ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix', 'None'];
const CONFIG_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';

export function defaultConfig(): Config {
  return {
    mode: 'iptables',
    modeSource: 'default',
    hostnameOverride: '',
    nodeIPOverride: [],
    clusterCIDRs: [],
    detectLocalMode: 'ClusterCIDR',
    detectLocal: { bridgeInterface: '', interfaceNamePrefix: '' },
    nodePortAddresses: [],
    masqueradeAll: false,
    masqueradeBit: 14,
    localhostNodePorts: true,
    syncPeriodMs: 30_000,
    minSyncPeriodMs: 1_000,
    healthzBindAddress: '0.0.0.0:10256',
    metricsBindAddress: '127.0.0.1:10249',
    bindAddressHardFail: false,
    ipvs: { scheduler: '', excludeCIDRs: [], strictARP: false, tcpTimeoutMs: 0, tcpFinTimeoutMs: 0, udpTimeoutMs: 0 },
    conntrack: {
      maxPerCore: 32768,
      min: 131072,
      tcpEstablishedTimeoutMs: 24 * 3_600_000,
      tcpCloseWaitTimeoutMs: 3_600_000,
      tcpBeLiberal: false,
      udpTimeoutMs: 0,
      udpStreamTimeoutMs: 0,
    },
    clientConnection: { kubeconfig: '', qps: 5, burst: 10, contentType: 'application/vnd.kubernetes.protobuf', acceptContentTypes: '' },
    configSyncPeriodMs: 15 * 60_000,
    featureGates: {},
    serviceProxyName: '',
    oomScoreAdj: -999,
    logVerbosity: 0,
    logFormat: '',
    serviceClusterIPRange: [],
    serviceNodePortRange: { min: 30000, max: 32767 },
    flagsGiven: [],
    fileFieldsGiven: [],
    configFile: '',
    manifests: '',
    kubeconfig: '',
    master: '',
    clusterDomain: 'cluster.local',
    dnsBindAddress: '',
    dnsUpstream: [],
    dnsTTL: 5,
    bpfCgroupRoot: '',
    udpIdleTimeoutMs: 30_000,
    userspaceWorkers: 'auto',
  };
}

// ---- the configuration file ------------------------------------------------------------

type Reader = (v: unknown, field: string) => void;
type Schema = { [field: string]: Reader | Schema | 'any' };

// The `yaml` package takes ~0.1 s to load: only a --config file needs it, so it is loaded then
// (commands such as `kproxy trace` start without it).
const parseYAML = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

/** Reads a KubeProxyConfiguration file into cfg. Unknown fields are errors, as upstream's strict decoding. */
export function applyConfigFile(cfg: Config, path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError('--config', `${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${fsReason(e)})`}`);
  }
  let doc: unknown;
  try {
    doc = parseYAML(text);
  } catch (e) {
    throw new ConfigError('--config', `${path} is not valid YAML: ${(e as Error).message.split('\n')[0].replace(/:$/, '')}`);
  }
  if (!isObject(doc)) throw new ConfigError('--config', `${path} must hold one KubeProxyConfiguration object`);
  if (doc.kind !== 'KubeProxyConfiguration') throw new ConfigError('kind', `expected KubeProxyConfiguration, got ${JSON.stringify(doc.kind)}`);
  if (doc.apiVersion !== CONFIG_API_VERSION) throw new ConfigError('apiVersion', `expected ${CONFIG_API_VERSION}, got ${JSON.stringify(doc.apiVersion)}`);

  let topSync: number | null = null;
  let topMinSync: number | null = null;
  const perMode: Record<string, { sync?: number; minSync?: number }> = {};
  // A zero duration means "the default", as upstream's defaulting (ipvs.minSyncPeriod: 0 is a value).
  const modeSync = (mode: string): Schema => ({
    syncPeriod: (v, f) => ((perMode[mode] ??= {}).sync = orDefault(duration(v, f), undefined)),
    minSyncPeriod: (v, f) => ((perMode[mode] ??= {}).minSync = mode === 'ipvs' ? duration(v, f) : orDefault(duration(v, f), undefined)),
  });
  const conntrack: Schema = {
    maxPerCore: (v, f) => (cfg.conntrack.maxPerCore = intIn(v, f, 0)),
    min: (v, f) => (cfg.conntrack.min = intIn(v, f, 0)),
    tcpEstablishedTimeout: (v, f) => (cfg.conntrack.tcpEstablishedTimeoutMs = duration(v, f)),
    tcpCloseWaitTimeout: (v, f) => (cfg.conntrack.tcpCloseWaitTimeoutMs = duration(v, f)),
    tcpBeLiberal: (v, f) => (cfg.conntrack.tcpBeLiberal = boolean(v, f)),
    udpTimeout: (v, f) => (cfg.conntrack.udpTimeoutMs = duration(v, f)),
    udpStreamTimeout: (v, f) => (cfg.conntrack.udpStreamTimeoutMs = duration(v, f)),
  };
  const schema: Schema = {
    apiVersion: () => {},
    kind: () => {},
    mode: (v, f) => setMode(cfg, string(v, f), f, 'file'),
    hostnameOverride: (v, f) => (cfg.hostnameOverride = string(v, f)),
    bindAddress: (v, f) => (cfg.nodeIPOverride = nodeIPs(string(v, f), f)),
    nodeIPOverride: (v, f) =>
      (cfg.nodeIPOverride = nodeIPs(
        list(v, f)
          .map((x, i) => string(x, `${f}[${i}]`))
          .join(','),
        f,
      )),
    bindAddressHardFail: (v, f) => (cfg.bindAddressHardFail = boolean(v, f)),
    clusterCIDR: (v, f) => (cfg.clusterCIDRs = dualStackCIDRs(string(v, f), f)),
    detectLocalMode: (v, f) => (cfg.detectLocalMode = detectLocalMode(string(v, f), f)),
    detectLocal: {
      bridgeInterface: (v, f) => (cfg.detectLocal.bridgeInterface = string(v, f)),
      interfaceNamePrefix: (v, f) => (cfg.detectLocal.interfaceNamePrefix = string(v, f)),
      clusterCIDRs: (v, f) =>
        (cfg.clusterCIDRs = dualStackCIDRs(
          list(v, f)
            .map((x, i) => string(x, `${f}[${i}]`))
            .join(','),
          f,
        )),
    },
    nodePortAddresses: (v, f) =>
      (cfg.nodePortAddresses = nodePortAddresses(
        list(v, f)
          .map((x, i) => string(x, `${f}[${i}]`))
          .join(','),
        f,
      )),
    healthzBindAddress: (v, f) => (cfg.healthzBindAddress = fileBindAddress(string(v, f), f, 10256, cfg.healthzBindAddress)),
    metricsBindAddress: (v, f) => (cfg.metricsBindAddress = fileBindAddress(string(v, f), f, 10249, cfg.metricsBindAddress)),
    syncPeriod: (v, f) => (topSync = orDefault(duration(v, f), null)),
    minSyncPeriod: (v, f) => (topMinSync = orDefault(duration(v, f), null)),
    iptables: {
      ...modeSync('iptables'),
      masqueradeAll: (v, f) => (cfg.masqueradeAll = cfg.masqueradeAll || boolean(v, f)),
      masqueradeBit: (v, f) => (cfg.masqueradeBit = intIn(v, f, 0, 31)),
      localhostNodePorts: (v, f) => (cfg.localhostNodePorts = boolean(v, f)),
      snatNodeInternalIP: (v, f) => boolean(v, f),
    },
    nftables: {
      ...modeSync('nftables'),
      masqueradeAll: (v, f) => (cfg.masqueradeAll = cfg.masqueradeAll || boolean(v, f)),
      masqueradeBit: (v, f) => (cfg.masqueradeBit = intIn(v, f, 0, 31)),
    },
    ipvs: {
      ...modeSync('ipvs'),
      scheduler: (v, f) => (cfg.ipvs.scheduler = string(v, f)),
      excludeCIDRs: (v, f) =>
        (cfg.ipvs.excludeCIDRs = cidrList(
          list(v, f)
            .map((x, i) => string(x, `${f}[${i}]`))
            .join(','),
          f,
        )),
      strictARP: (v, f) => (cfg.ipvs.strictARP = boolean(v, f)),
      tcpTimeout: (v, f) => (cfg.ipvs.tcpTimeoutMs = duration(v, f)),
      tcpFinTimeout: (v, f) => (cfg.ipvs.tcpFinTimeoutMs = duration(v, f)),
      udpTimeout: (v, f) => (cfg.ipvs.udpTimeoutMs = duration(v, f)),
    },
    linux: {
      conntrack,
      masqueradeAll: (v, f) => (cfg.masqueradeAll = cfg.masqueradeAll || boolean(v, f)),
      oomScoreAdj: (v, f) => (cfg.oomScoreAdj = intIn(v, f, -1000, 1000)),
    },
    conntrack,
    clientConnection: {
      kubeconfig: (v, f) => (cfg.clientConnection.kubeconfig = string(v, f)),
      qps: (v, f) => (cfg.clientConnection.qps = number(v, f) || cfg.clientConnection.qps),
      burst: (v, f) => (cfg.clientConnection.burst = intIn(v, f, 0) || cfg.clientConnection.burst),
      contentType: (v, f) => (cfg.clientConnection.contentType = string(v, f) || cfg.clientConnection.contentType),
      acceptContentTypes: (v, f) => (cfg.clientConnection.acceptContentTypes = string(v, f)),
    },
    configSyncPeriod: (v, f) => (cfg.configSyncPeriodMs = duration(v, f) || cfg.configSyncPeriodMs),
    featureGates: (v, f) => {
      for (const [k, val] of Object.entries(object(v, f))) cfg.featureGates[k] = boolean(val, `${f}.${k}`);
      checkFeatureGates(cfg.featureGates, (g) => `${f}.${g}`, closest);
    },
    oomScoreAdj: (v, f) => (cfg.oomScoreAdj = intIn(v, f, -1000, 1000)),
    serviceProxyName: (v, f) => (cfg.serviceProxyName = string(v, f)),
    enableProfiling: (v, f) => boolean(v, f),
    portRange: (v, f) => string(v, f),
    showHiddenMetricsForVersion: (v, f) => string(v, f),
    windowsRunAsService: (v, f) => boolean(v, f),
    winkernel: 'any',
    logging: 'any',
  };
  walk(doc, schema, '', cfg.fileFieldsGiven);

  const modeOverrides = perMode[cfg.mode] ?? {};
  cfg.syncPeriodMs = topSync ?? modeOverrides.sync ?? cfg.syncPeriodMs;
  cfg.minSyncPeriodMs = topMinSync ?? modeOverrides.minSync ?? cfg.minSyncPeriodMs;
}

function walk(doc: Record<string, unknown>, schema: Schema, prefix: string, given: string[]): void {
  for (const [key, value] of Object.entries(doc)) {
    const field = prefix ? `${prefix}.${key}` : key;
    const rule = schema[key];
    if (rule === undefined) {
      const near = closest(key, Object.keys(schema));
      throw new ConfigError(field, `unknown field in KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1)${near ? `; did you mean ${prefix ? `${prefix}.` : ''}${near}?` : ''}`);
    }
    if (value === null) continue;
    if (typeof rule === 'function' || rule === 'any') {
      if (rule !== 'any') rule(value, field);
      if (!isZero(value) && field !== 'apiVersion' && field !== 'kind') given.push(field);
    } else walk(object(value, field), rule, field, given);
  }
}

/** A zero value, as a generated kube-proxy ConfigMap holds for every field it does not set. */
function isZero(v: unknown): boolean {
  if (v === '' || v === 0 || v === false || v === '0s' || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.values(v).every(isZero);
}

// ---- flags -----------------------------------------------------------------------------

/** Flag values as commander gives them (undefined = not given). */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Applies command-line flags on top of cfg (flags win over the file). */
export function applyFlags(cfg: Config, flags: FlagValues): void {
  const s = (name: string): string | undefined => {
    const v = flags[name];
    return typeof v === 'string' ? v : undefined;
  };
  const set = <T>(name: string, parse: (v: string, flag: string) => T, assign: (v: T) => void) => {
    const v = s(name);
    if (v !== undefined) assign(parse(v, `--${kebab(name)}`));
  };
  if (s('proxyMode') !== undefined) setMode(cfg, s('proxyMode')!, '--proxy-mode', 'flag');
  // As kube-proxy: an empty flag changes nothing (the file's value or the hostname stays); one
  // of spaces only is a mistake.
  set(
    'hostnameOverride',
    (v, f) => {
      if (v !== '' && v.trim() === '') throw new ConfigError(f, "empty: give the node name, or leave the flag out to use the machine's hostname");
      return v.trim();
    },
    (v) => {
      if (v) cfg.hostnameOverride = v;
    },
  );
  set('bindAddress', nodeIPs, (v) => (cfg.nodeIPOverride = v));
  set('nodeIpOverride', nodeIPs, (v) => (cfg.nodeIPOverride = v));
  set('clusterCidr', dualStackCIDRs, (v) => (cfg.clusterCIDRs = v));
  set('detectLocalMode', detectLocalMode, (v) => (cfg.detectLocalMode = v));
  set(
    'podBridgeInterface',
    (v) => v,
    (v) => (cfg.detectLocal.bridgeInterface = v),
  );
  set(
    'podInterfaceNamePrefix',
    (v) => v,
    (v) => (cfg.detectLocal.interfaceNamePrefix = v),
  );
  set('nodeportAddresses', nodePortAddresses, (v) => (cfg.nodePortAddresses = v));
  set('healthzBindAddress', bindAddress, (v) => (cfg.healthzBindAddress = v));
  set('metricsBindAddress', bindAddress, (v) => (cfg.metricsBindAddress = v));
  set(
    'iptablesMasqueradeBit',
    (v, f) => intIn(numberFlag(v, f), f, 0, 31),
    (v) => (cfg.masqueradeBit = v),
  );
  set('iptablesLocalhostNodeports', boolFlag, (v) => (cfg.localhostNodePorts = v));
  set(
    'ipvsScheduler',
    (v) => v,
    (v) => (cfg.ipvs.scheduler = v),
  );
  set('ipvsExcludeCidrs', cidrList, (v) => (cfg.ipvs.excludeCIDRs = v));
  set('ipvsStrictArp', boolFlag, (v) => (cfg.ipvs.strictARP = v));
  set('ipvsTcpTimeout', durationFlag, (v) => (cfg.ipvs.tcpTimeoutMs = v));
  set('ipvsTcpfinTimeout', durationFlag, (v) => (cfg.ipvs.tcpFinTimeoutMs = v));
  set('ipvsUdpTimeout', durationFlag, (v) => (cfg.ipvs.udpTimeoutMs = v));
  set('kubeApiQps', numberFlag, (v) => (cfg.clientConnection.qps = v));
  set(
    'kubeApiBurst',
    (v, f) => intIn(numberFlag(v, f), f, 0),
    (v) => (cfg.clientConnection.burst = v),
  );
  set('configSyncPeriod', durationFlag, (v) => (cfg.configSyncPeriodMs = v));
  set(
    'conntrackMaxPerCore',
    (v, f) => intIn(numberFlag(v, f), f, 0),
    (v) => (cfg.conntrack.maxPerCore = v),
  );
  set(
    'conntrackMin',
    (v, f) => intIn(numberFlag(v, f), f, 0),
    (v) => (cfg.conntrack.min = v),
  );
  set('conntrackTcpTimeoutEstablished', durationFlag, (v) => (cfg.conntrack.tcpEstablishedTimeoutMs = v));
  set('conntrackTcpTimeoutCloseWait', durationFlag, (v) => (cfg.conntrack.tcpCloseWaitTimeoutMs = v));
  set('conntrackUdpTimeout', durationFlag, (v) => (cfg.conntrack.udpTimeoutMs = v));
  set('conntrackUdpTimeoutStream', durationFlag, (v) => (cfg.conntrack.udpStreamTimeoutMs = v));
  set('featureGates', featureGates, (v) => Object.assign(cfg.featureGates, v));
  set(
    'oomScoreAdj',
    (v, f) => intIn(numberFlag(v, f), f, -1000, 1000),
    (v) => (cfg.oomScoreAdj = v),
  );
  set(
    'v',
    // `-v=2` (pflag's short form with a value) reaches here as "=2"
    (v, f) => intIn(numberFlag(v.replace(/^=/, ''), f), f, 0, 10),
    (v) => (cfg.logVerbosity = v),
  );
  set('logFormat', logFormat, (v) => (cfg.logFormat = v));
  set(
    'kubeconfig',
    (v) => v,
    (v) => (cfg.kubeconfig = v),
  );
  set(
    'master',
    (v) => v,
    (v) => (cfg.master = v),
  );
  set(
    'manifests',
    (v) => v,
    (v) => (cfg.manifests = v),
  );
  set('serviceClusterIpRange', dualStackCIDRs, (v) => (cfg.serviceClusterIPRange = v));
  set('serviceNodePortRange', portRange, (v) => (cfg.serviceNodePortRange = v));
  set('clusterDomain', domain, (v) => (cfg.clusterDomain = v));
  set(
    'dnsBindAddress',
    (v, f) => (v === '' || v === 'off' ? 'off' : bindAddress(v, f)),
    (v) => (cfg.dnsBindAddress = v),
  );
  set('dnsUpstream', upstreams, (v) => (cfg.dnsUpstream = v));
  set(
    'dnsTtl',
    (v, f) => intIn(numberFlag(v, f), f, 0, 86400),
    (v) => (cfg.dnsTTL = v),
  );
  set(
    'bpfCgroupRoot',
    (v) => v,
    (v) => (cfg.bpfCgroupRoot = v),
  );
  set('udpIdleTimeout', durationFlag, (v) => (cfg.udpIdleTimeoutMs = v));
  set(
    'userspaceWorkers',
    (v, f) => {
      if (v === 'auto') return 'auto';
      // The same words as workerCount() uses for KPROXY_USERSPACE_WORKERS.
      if (!/^\d+$/.test(v.trim()) || Number(v) > 64) throw new ConfigError(f, `expected auto or a whole number from 0 to 64, got "${v}"`);
      return Number(v);
    },
    (v) => (cfg.userspaceWorkers = v),
  );
  if (s('logFormat') === undefined) set('loggingFormat', logFormat, (v) => (cfg.logFormat = v));
  // Boolean flags: alone they mean true; with a value (--masquerade-all=false) it is parsed.
  set('masqueradeAll', boolFlag, (v) => (cfg.masqueradeAll = v));
  set('bindAddressHardFail', boolFlag, (v) => (cfg.bindAddressHardFail = v));
  set('conntrackTcpBeLiberal', boolFlag, (v) => (cfg.conntrack.tcpBeLiberal = v));
  if (flags.masqueradeAll === true) cfg.masqueradeAll = true;
  if (flags.bindAddressHardFail === true) cfg.bindAddressHardFail = true;
  if (flags.ipvsStrictArp === true) cfg.ipvs.strictARP = true;
  if (flags.iptablesLocalhostNodeports === true) cfg.localhostNodePorts = true;
  if (flags.conntrackTcpBeLiberal === true) cfg.conntrack.tcpBeLiberal = true;

  // Sync periods: the generic flags win over the per-mode ones, which apply to their mode only.
  const prefix = cfg.mode === 'iptables' ? 'iptables' : cfg.mode === 'ipvs' ? 'ipvs' : cfg.mode === 'nftables' ? 'nftables' : '';
  for (const [generic, field] of [
    ['syncPeriod', 'syncPeriodMs'],
    ['minSyncPeriod', 'minSyncPeriodMs'],
  ] as const) {
    const perMode = prefix ? s(prefix + generic[0].toUpperCase() + generic.slice(1)) : undefined;
    const v = s(generic) ?? perMode;
    const flag = s(generic) !== undefined ? `--${kebab(generic)}` : `--${prefix}-${kebab(generic)}`;
    if (v !== undefined) cfg[field] = durationFlag(v, flag);
  }
}

/** Cross-field checks once file and flags are merged. */
export function finishConfig(cfg: Config): Config {
  if (cfg.minSyncPeriodMs > cfg.syncPeriodMs && cfg.syncPeriodMs > 0) {
    throw new ConfigError('minSyncPeriod', `must not exceed syncPeriod (${cfg.minSyncPeriodMs} ms > ${cfg.syncPeriodMs} ms)`);
  }
  if (cfg.syncPeriodMs <= 0) throw new ConfigError('syncPeriod', 'must be greater than 0');
  if (cfg.detectLocalMode === 'BridgeInterface' && !cfg.detectLocal.bridgeInterface) {
    throw new ConfigError('detectLocal.bridgeInterface', 'required with detectLocalMode BridgeInterface (--pod-bridge-interface)');
  }
  if (cfg.detectLocalMode === 'InterfaceNamePrefix' && !cfg.detectLocal.interfaceNamePrefix) {
    throw new ConfigError('detectLocal.interfaceNamePrefix', 'required with detectLocalMode InterfaceNamePrefix (--pod-interface-name-prefix)');
  }
  if (cfg.manifests && cfg.kubeconfig) throw new ConfigError('--manifests', 'choose one source: --manifests DIR or --kubeconfig FILE, not both');
  refuseHarmfulSettings(cfg);
  return cfg;
}

export interface LoadOptions {
  flags: FlagValues;
  /** The mode to use when neither the file nor a flag names one. */
  defaultMode?: ProxyMode;
}

/** Defaults, then --config FILE, then flags, then cross-field checks. */
export function loadConfig(opts: LoadOptions): Config {
  const cfg = defaultConfig();
  if (opts.defaultMode) cfg.mode = opts.defaultMode;
  const file = opts.flags.config;
  if (typeof file === 'string' && file !== '') {
    cfg.configFile = file;
    applyConfigFile(cfg, file);
  }
  applyFlags(cfg, opts.flags);
  cfg.flagsGiven = Object.entries(opts.flags)
    .filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => kebab(k));
  return finishConfig(cfg);
}

/** How to name a setting in a message: the flag when the user typed it, else the file's field path. */
export function settingName(cfg: Config, field: string, flag: string): string {
  return cfg.flagsGiven.includes(flag) ? `--${flag}` : field;
}

// ---- value parsers ---------------------------------------------------------------------

function kebab(camel: string): string {
  return camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: unknown, f: string): Record<string, unknown> {
  if (!isObject(v)) throw new ConfigError(f, 'expected a mapping');
  return v;
}

function list(v: unknown, f: string): unknown[] {
  if (!Array.isArray(v)) throw new ConfigError(f, 'expected a list');
  return v;
}

function string(v: unknown, f: string): string {
  if (typeof v !== 'string') throw new ConfigError(f, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function boolean(v: unknown, f: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(f, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function number(v: unknown, f: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(f, `expected a number, got ${JSON.stringify(v)}`);
  return v;
}

function intIn(v: unknown, f: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = number(v, f);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(f, `expected an integer ${min}..${max === Number.MAX_SAFE_INTEGER ? '' : max}, got ${n}`);
  return n;
}

function numberFlag(v: string, f: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(f, `expected a number, got "${v}"`);
  return n;
}

function boolFlag(v: string, f: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ConfigError(f, `expected true or false, got "${v}"`);
}

function duration(v: unknown, f: string): number {
  // Upstream's metav1.Duration decodes from a string only: a bare number is refused there too.
  if (typeof v === 'number') throw new ConfigError(f, `expected a duration such as "30s" or "1m0s", got the bare number ${v} (add a unit)`);
  return durationFlag(string(v, f), f);
}

/** Upstream's defaulting of zero values: 0 (or "") means "use the default". */
function orDefault<T>(v: number, dflt: T): number | T {
  return v === 0 ? dflt : v;
}

/** A bind address in the file: "" means the default; a bare IP gets the default port (upstream's AppendPortIfNeeded). */
function fileBindAddress(v: string, f: string, port: number, dflt: string): string {
  if (v === '') return dflt;
  const ip = parseIP(v.replace(/^\[|\]$/g, ''));
  if (ip) return joinHostPort(ip.ip, port);
  return bindAddress(v, f);
}

function setMode(cfg: Config, v: string, f: string, source: 'flag' | 'file'): void {
  if (v === '') return; // upstream: "" is the platform default (see modes.ts)
  cfg.mode = proxyMode(v, f);
  cfg.modeSource = source;
}

function durationFlag(v: string, f: string): number {
  const ms = parseDuration(v);
  if (ms === null || ms < 0) throw new ConfigError(f, `expected a duration such as 30s, 1m0s or 500ms, got "${v}"`);
  return ms;
}

function proxyMode(v: string, f: string): ProxyMode {
  if (!(PROXY_MODES as readonly string[]).includes(v)) throw new ConfigError(f, `unknown proxy mode "${v}": expected one of ${PROXY_MODES.join(', ')}`);
  return v as ProxyMode;
}

function logFormat(v: string, f: string): 'text' | 'json' {
  if (v !== 'text' && v !== 'json') throw new ConfigError(f, `expected text or json, got "${v}"`);
  return v;
}

function detectLocalMode(v: string, f: string): DetectLocalMode {
  if (v === '') return 'ClusterCIDR';
  if (!(DETECT_LOCAL_MODES as readonly string[]).includes(v)) throw new ConfigError(f, `unknown mode "${v}": expected one of ${DETECT_LOCAL_MODES.join(', ')}`);
  return v as DetectLocalMode;
}

function splitList(v: string): string[] {
  return v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function cidrList(v: string, f: string): string[] {
  return splitList(v).map((c) => {
    const p = parseCIDR(c);
    if (!p) throw new ConfigError(f, `"${c}" is not a CIDR (expected e.g. 10.0.0.0/8 or fd00::/64)`);
    return p.cidr;
  });
}

/**
 * One CIDR, or a dual-stack pair: what kube-proxy accepts for the service and the cluster
 * CIDR. (Several pod CIDRs of one family would leave the modes to choose which of them make
 * traffic local, as kube-proxy's validation refuses it too.)
 */
function dualStackCIDRs(v: string, f: string): string[] {
  const cidrs = cidrList(v, f);
  const fams = cidrs.map((c) => (c.includes(':') ? 'IPv6' : 'IPv4'));
  if (cidrs.length > 2 || new Set(fams).size !== fams.length) {
    throw new ConfigError(f, `expected one CIDR, or two of different IP families (e.g. 10.244.0.0/16,fd00:10:244::/56); got "${v}"`);
  }
  return cidrs;
}

function nodeIPs(v: string, f: string): string[] {
  return splitList(v)
    .map((x) => {
      const p = parseIP(x);
      if (!p) throw new ConfigError(f, `"${x}" is not an IP address`);
      return p.ip;
    })
    .filter((ip) => ip !== '0.0.0.0' && ip !== '::');
}

// kube-proxy's keywords besides "primary" stand for fixed CIDRs.
const NODE_PORT_KEYWORDS: Record<string, string[]> = { all: ['0.0.0.0/0', '::/0'], localhost: ['127.0.0.0/8', '::1/128'] };

function nodePortAddresses(v: string, f: string): string[] {
  return splitList(v).flatMap((x) => {
    if (x === 'primary') return [x];
    if (NODE_PORT_KEYWORDS[x]) return NODE_PORT_KEYWORDS[x];
    const p = parseCIDR(x);
    if (!p) throw new ConfigError(f, `"${x}" is neither a CIDR nor one of primary, all, localhost`);
    return [p.cidr];
  });
}

// The port each address flag's examples show in an error, so that the example is a value the
// user could give to that very flag.
const EXAMPLE_PORT: Record<string, number> = { '--healthz-bind-address': 10256, '--dns-bind-address': 10053, '--dns-upstream': 53 };

function bindAddress(v: string, f: string): string {
  if (v === '') return '';
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v) ?? /^()()(\d+)$/.exec(v.replace(/^:/, ''));
  const host = m ? m[1] || m[2] || '0.0.0.0' : v;
  const port = m ? Number(m[3]) : NaN;
  if (!parseIP(host) || !(port >= 0 && port <= 65535)) {
    if (parseIP(v)) return v; // kube-proxy accepts a bare IP and adds its default port later
    const p = EXAMPLE_PORT[f] ?? 10249;
    throw new ConfigError(f, `expected IP:PORT (e.g. 127.0.0.1:${p}, [::1]:${p}), got "${v}"`);
  }
  return joinHostPort(host, port);
}

function featureGates(v: string, f: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const item of splitList(v)) {
    const [k, val] = item.split('=');
    if (!k || (val !== 'true' && val !== 'false')) throw new ConfigError(f, `expected Name=true|false[,...], got "${item}"`);
    out[k.trim()] = val === 'true';
  }
  checkFeatureGates(out, () => f, closest);
  return out;
}

function portRange(v: string, f: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(v.trim());
  const min = m ? Number(m[1]) : NaN;
  const max = m ? Number(m[2]) : NaN;
  if (!m || min < 1 || max > 65535 || min > max) throw new ConfigError(f, `expected a range such as 30000-32767, got "${v}"`);
  return { min, max };
}

function domain(v: string, f: string): string {
  const d = v.trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(d)) throw new ConfigError(f, `"${v}" is not a DNS domain`);
  return d;
}

function upstreams(v: string, f: string): string[] {
  return splitList(v).map((x) => {
    const withPort = /^(?:\[[^\]]+\]|[^:\]]+):\d+$/.test(x) ? x : parseIP(x)?.family === 'IPv6' ? `[${x}]:53` : `${x}:53`;
    try {
      bindAddress(withPort, f);
    } catch {
      // Name what the user wrote (not the port kproxy added) and the form this flag takes.
      throw new ConfigError(f, `expected IP or IP:PORT (e.g. 10.0.0.10, 10.0.0.10:53, [fd00::a]:53), got "${x}"`);
    }
    return withPort;
  });
}
