// The DNS server as an add-on of `kproxy run`: on by default in standalone mode (on
// 127.0.0.1:10053), off in a cluster unless --dns-bind-address is given; "off" disables it.
import { Counter } from 'prom-client';
import ipaddr from 'ipaddr.js';
import type { AddonFactory } from '../addons/addon.js';
import type { Config } from '../config/types.js';
import { bindFailure } from '../util/errors.js';
import { splitHostPort } from '../util/net.js';
import { DnsServer } from './server.js';
import type { RData } from './wire.js';

/** Where the DNS server listens in standalone mode when no address is given. */
export const STANDALONE_DNS_ADDRESS = '127.0.0.1:10053';

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 16: 'BADVERS' };

/** The address the DNS server binds for this configuration, or null when it is off. */
export function dnsAddress(cfg: Config): string | null {
  if (cfg.dnsBindAddress === 'off') return null;
  if (cfg.dnsBindAddress) return cfg.dnsBindAddress;
  return cfg.manifests ? STANDALONE_DNS_ADDRESS : null;
}

/** A DnsServer configured from the proxy's configuration (not yet listening). */
export function dnsServerFor(cfg: Config, bind: string, onAnswer?: (rcode: number, tcp: boolean) => void): DnsServer {
  const { host } = splitHostPort(bind);
  const own: RData[] = [];
  if (
    ipaddr.isValid(host) &&
    !ipaddr
      .parse(host)
      .toNormalizedString()
      .match(/^(0\.0\.0\.0|0:0:0:0:0:0:0:0)$/)
  ) {
    const bytes = Buffer.from(ipaddr.parse(host).toByteArray());
    own.push(bytes.length === 4 ? { type: 1, address: bytes } : { type: 28, address: bytes });
  }
  return new DnsServer({
    zone: cfg.clusterDomain,
    ttl: cfg.dnsTTL,
    upstreams: cfg.dnsUpstream,
    authoritativeCIDRs: [...cfg.serviceClusterIPRange, ...cfg.clusterCIDRs],
    serverAddresses: own,
    onAnswer,
  });
}

export const dnsAddon: AddonFactory = async ({ config, log, metrics }) => {
  const bind = dnsAddress(config);
  if (!bind) return null;
  // Counted in plain numbers on the hot path, handed to Prometheus at scrape time.
  const counts = new Float64Array(2 * 17); // [rcode * 2 + tcp]
  const reported = new Float64Array(counts.length);
  new Counter({
    name: 'kproxy_dns_responses_total',
    help: 'DNS responses sent by the cluster DNS server, by response code and transport',
    labelNames: ['rcode', 'transport'],
    registers: [metrics.registry],
    collect() {
      for (let i = 0; i < counts.length; i++) {
        if (counts[i] === reported[i]) continue;
        const rcode = RCODE_NAMES[i >> 1] ?? String(i >> 1);
        this.inc({ rcode, transport: i & 1 ? 'tcp' : 'udp' }, counts[i] - reported[i]);
        reported[i] = counts[i];
      }
    },
  });
  const server = dnsServerFor(config, bind, (rcode, tcp) => counts[(rcode % 17) * 2 + (tcp ? 1 : 0)]++);
  try {
    const at = await server.listen(bind);
    log.info({ address: `${at.host}:${at.port}`, zone: config.clusterDomain, upstreams: config.dnsUpstream }, 'cluster DNS listening (UDP and TCP)');
  } catch (e) {
    const msg = `DNS server cannot bind ${bind}: ${(e as Error).message}`;
    if (config.bindAddressHardFail) throw bindFailure('--dns-bind-address', bind, e);
    log.error(msg + '; continuing without DNS');
    return null;
  }
  return {
    update: (state) => server.update(state),
    close: () => server.close(),
  };
};
