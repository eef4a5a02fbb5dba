import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDuration } from '../../src/config/duration.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/util/errors.js';

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-cfg-'));
  const p = join(dir, 'config.yaml');
  writeFileSync(p, text);
  return p;
}

const HEADER = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  it("has upstream's defaults", () => {
    const c = loadConfig({ flags: {} });
    assert.equal(c.mode, 'iptables');
    assert.equal(c.syncPeriodMs, 30_000);
    assert.equal(c.minSyncPeriodMs, 1_000);
    assert.equal(c.healthzBindAddress, '0.0.0.0:10256');
    assert.equal(c.metricsBindAddress, '127.0.0.1:10249');
    assert.equal(c.masqueradeBit, 14);
    assert.equal(c.detectLocalMode, 'ClusterCIDR');
    assert.equal(c.localhostNodePorts, true);
    assert.equal(c.conntrack.maxPerCore, 32768);
    assert.equal(c.clientConnection.qps, 5);
    assert.equal(c.clusterDomain, 'cluster.local');
  });
  it('reads a KubeProxyConfiguration and lets flags override it', () => {
    const file = configFile(
      HEADER +
        'mode: nftables\nclusterCIDR: 10.244.0.0/16\nhostnameOverride: from-file\nnodePortAddresses: [primary]\n' +
        'nftables:\n  syncPeriod: 1m0s\n  minSyncPeriod: 2s\n  masqueradeAll: true\nmetricsBindAddress: 0.0.0.0:9999\n' +
        'clientConnection:\n  qps: 50\n  burst: 100\nfeatureGates:\n  PreferSameTrafficDistribution: false\n',
    );
    const c = loadConfig({ flags: { config: file, hostnameOverride: 'from-flag', nftablesMinSyncPeriod: '500ms' } });
    assert.equal(c.mode, 'nftables');
    assert.deepEqual(c.clusterCIDRs, ['10.244.0.0/16']);
    assert.equal(c.hostnameOverride, 'from-flag');
    assert.deepEqual(c.nodePortAddresses, ['primary']);
    assert.equal(c.syncPeriodMs, 60_000);
    assert.equal(c.minSyncPeriodMs, 500);
    assert.equal(c.masqueradeAll, true);
    assert.equal(c.metricsBindAddress, '0.0.0.0:9999');
    assert.equal(c.clientConnection.qps, 50);
    assert.equal(c.featureGates.PreferSameTrafficDistribution, false);
  });
  it('rejects unknown fields and bad values, naming the field and the expected form', () => {
    const cases: [string, string, RegExp][] = [
      ['mode: iptables\nbogus: 1\n', 'bogus', /unknown field/],
      ['iptables:\n  syncPeriod: forever\n', 'iptables.syncPeriod', /duration/],
      ['mode: warp\n', 'mode', /expected one of/],
      ['clusterCIDR: 10.0.0.0/99\n', 'clusterCIDR', /not a CIDR/],
      // Two pod CIDRs of one family: which of them is local traffic would be each mode's guess.
      ['clusterCIDR: 10.0.0.0/8,100.64.0.0/10\n', 'clusterCIDR', /one CIDR, or two of different IP families/],
      ['detectLocal:\n  clusterCIDRs: [fd00:1::/64, fd00:2::/64]\n', 'detectLocal.clusterCIDRs', /one CIDR, or two of different IP families/],
      ['iptables:\n  masqueradeBit: 40\n', 'iptables.masqueradeBit', /0\.\.31/],
      ['detectLocalMode: Magic\n', 'detectLocalMode', /expected one of/],
    ];
    for (const [body, field, reason] of cases) {
      const e = configErrorOf(() => loadConfig({ flags: { config: configFile(HEADER + body) } }));
      assert.equal(e.field, field, body);
      assert.match(e.reason, reason);
    }
    assert.equal(configErrorOf(() => loadConfig({ flags: { config: configFile('kind: Pod\n') } })).field, 'kind');
  });
  it('rejects bad flag values, naming the flag', () => {
    const cases: [Record<string, string | boolean>, string][] = [
      [{ proxyMode: 'fast' }, '--proxy-mode'],
      [{ nodeportAddresses: 'lots' }, '--nodeport-addresses'],
      [{ metricsBindAddress: 'here' }, '--metrics-bind-address'],
      [{ serviceClusterIpRange: '10.96.0.0/12,10.100.0.0/16' }, '--service-cluster-ip-range'],
      [{ clusterCidr: '10.0.0.0/8,100.64.0.0/10' }, '--cluster-cidr'],
      [{ clusterCidr: '10.0.0.0/8,fd00::/64,fd01::/64' }, '--cluster-cidr'],
      [{ iptablesSyncPeriod: '5 minutes' }, '--iptables-sync-period'],
      [{ featureGates: 'X=maybe' }, '--feature-gates'],
    ];
    for (const [flags, field] of cases) assert.equal(configErrorOf(() => loadConfig({ flags })).field, field);
    assert.deepEqual(loadConfig({ flags: { clusterCidr: '10.244.0.0/16,fd00:10:244::/56' } }).clusterCIDRs, ['10.244.0.0/16', 'fd00:10:244::/56']);
  });
  it('checks cross-field rules', () => {
    assert.equal(configErrorOf(() => loadConfig({ flags: { minSyncPeriod: '1m', syncPeriod: '30s' } })).field, 'minSyncPeriod');
    assert.equal(configErrorOf(() => loadConfig({ flags: { detectLocalMode: 'BridgeInterface' } })).field, 'detectLocal.bridgeInterface');
  });
  it('parses Go durations', () => {
    assert.equal(parseDuration('1h2m3.5s'), 3_723_500);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('10'), null);
    assert.equal(parseDuration('1x'), null);
  });
});
