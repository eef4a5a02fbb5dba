// The configuration as a kube-proxy user writes it: upstream's defaulting of zero values,
// full field paths in errors, "did you mean", feature gates, the mode default, and the
// settings that have no effect in a mode.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { goDuration } from '../../src/config/configz.js';
import { settingsWithoutEffect } from '../../src/config/effect.js';
import { loadConfig } from '../../src/config/load.js';
import { conntrackSysctls } from '../../src/conntrack/sysctls.js';
import { ConfigError } from '../../src/util/errors.js';

const HEADER = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';
const dir = mkdtempSync(join(tmpdir(), 'kproxy-cfg-'));
let n = 0;
function file(body: string): string {
  const p = join(dir, `c${n++}.yaml`);
  writeFileSync(p, HEADER + body);
  return p;
}
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration, as upstream defaults and refuses it', () => {
  it('zero values mean the default, in every section (a generated kube-proxy ConfigMap)', () => {
    const c = loadConfig({
      flags: {
        config: file(
          'mode: ""\nsyncPeriod: 0s\nconfigSyncPeriod: 0s\nhealthzBindAddress: ""\nmetricsBindAddress: 127.0.0.1\nclientConnection: {qps: 0, burst: 0, contentType: ""}\nnftables: {syncPeriod: 0s, minSyncPeriod: 0s}\niptables: {syncPeriod: 0s, minSyncPeriod: 0s}\nconntrack: {maxPerCore: null, min: null, tcpEstablishedTimeout: null}\n',
        ),
      },
      defaultMode: 'iptables',
    });
    assert.equal(c.mode, 'iptables');
    assert.equal(c.modeSource, 'default', 'mode: "" is no choice');
    assert.equal(c.syncPeriodMs, 30_000);
    assert.equal(c.minSyncPeriodMs, 1_000);
    assert.equal(c.configSyncPeriodMs, 15 * 60_000);
    assert.equal(c.healthzBindAddress, '0.0.0.0:10256');
    assert.equal(c.metricsBindAddress, '127.0.0.1:10249', 'a bare IP gets the default port');
    assert.deepEqual([c.clientConnection.qps, c.clientConnection.burst, c.clientConnection.contentType], [5, 10, 'application/vnd.kubernetes.protobuf']);
    assert.equal(c.conntrack.maxPerCore, 32768);
    assert.equal(c.conntrack.tcpEstablishedTimeoutMs, 24 * 3_600_000);
    assert.deepEqual(c.fileFieldsGiven, ['metricsBindAddress'], 'zero values count as not given');
  });

  it('names the full path of a bad field, a bare number included', () => {
    const e = errorOf(() => loadConfig({ flags: { config: file('nftables:\n  syncPeriod: 30\n') } }));
    assert.equal(e.field, 'nftables.syncPeriod');
    assert.match(e.reason, /bare number 30/);
    const unknown = errorOf(() => loadConfig({ flags: { config: file('conntrack:\n  maxPercore: 5\n') } }));
    assert.equal(unknown.field, 'conntrack.maxPercore');
    assert.match(unknown.reason, /did you mean conntrack\.maxPerCore\?/);
  });

  it('rejects unknown feature gates, from a flag and from the file', () => {
    const flag = errorOf(() => loadConfig({ flags: { featureGates: 'PreferSameTraficDistribution=false' } }));
    assert.equal(flag.field, '--feature-gates');
    assert.match(flag.reason, /unrecognized feature gate "PreferSameTraficDistribution" \(did you mean PreferSameTrafficDistribution\?\)/);
    assert.equal(errorOf(() => loadConfig({ flags: { config: file('featureGates: {Bogus: true}\n') } })).field, 'featureGates.Bogus');
    assert.equal(loadConfig({ flags: { featureGates: 'PreferSameTrafficDistribution=false' } }).featureGates.PreferSameTrafficDistribution, false);
  });

  it('records where the mode came from', () => {
    assert.equal(loadConfig({ flags: { proxyMode: 'nftables' } }).modeSource, 'flag');
    assert.equal(loadConfig({ flags: { config: file('mode: userspace\n') } }).modeSource, 'file');
  });

  it('lists given settings that have no effect in the chosen mode, naming what the user typed', () => {
    const c = loadConfig({ flags: { proxyMode: 'userspace', conntrackMin: '5', masqueradeAll: true, config: file('ipvs: {strictARP: true}\nconfigSyncPeriod: 1m\n') } });
    const lines = settingsWithoutEffect(c);
    assert.ok(
      lines.some((l) => l.startsWith('--conntrack-min: no effect in userspace mode')),
      lines.join('\n'),
    );
    assert.ok(lines.some((l) => l.startsWith('--masquerade-all: no effect in userspace mode')));
    assert.ok(lines.some((l) => l.startsWith('ipvs.strictARP: no effect in userspace mode')));
    assert.ok(lines.some((l) => l.startsWith('configSyncPeriod: no effect')));
    // The ipvs flags as well as their fields, and the userspace mode's own flags in a kernel mode.
    const us = settingsWithoutEffect(loadConfig({ flags: { proxyMode: 'userspace', ipvsStrictArp: true, ipvsTcpTimeout: '10s', ipvsTcpfinTimeout: '5s', ipvsUdpTimeout: '5s' } }));
    assert.deepEqual(us, ['--ipvs-strict-arp, --ipvs-tcp-timeout, --ipvs-tcpfin-timeout, --ipvs-udp-timeout: no effect in userspace mode: it is an IPVS setting']);
    assert.deepEqual(settingsWithoutEffect(loadConfig({ flags: { proxyMode: 'nftables', userspaceWorkers: '2' } })), [
      '--userspace-workers: no effect in nftables mode: it sets the worker processes of the userspace proxy',
    ]);
    assert.deepEqual(settingsWithoutEffect(loadConfig({ flags: { proxyMode: 'ipvs', ipvsStrictArp: true } })), []);
    const nft = loadConfig({ flags: { proxyMode: 'nftables', conntrackMin: '5', masqueradeAll: true, manifests: '/x', kubeApiQps: '9' } });
    assert.deepEqual(settingsWithoutEffect(nft), ['--kube-api-qps: no effect: with --manifests there is no API server']);
  });

  it('computes the conntrack sysctls as upstream (0 leaves a value as it is)', () => {
    const c = loadConfig({ flags: { conntrackMaxPerCore: '1000', conntrackMin: '5000', conntrackTcpTimeoutEstablished: '2h', conntrackUdpTimeout: '0s' } });
    assert.deepEqual(conntrackSysctls(c.conntrack, 2), [
      { name: 'net/netfilter/nf_conntrack_max', value: 5000 },
      { name: 'net/netfilter/nf_conntrack_tcp_timeout_established', value: 7200 },
      { name: 'net/netfilter/nf_conntrack_tcp_timeout_close_wait', value: 3600 },
    ]);
    assert.deepEqual(
      conntrackSysctls({ ...c.conntrack, maxPerCore: 0 }, 8)
        .map((s) => s.name)
        .includes('net/netfilter/nf_conntrack_max'),
      false,
    );
  });

  it('prints durations as Go does on /configz', () => {
    assert.deepEqual([goDuration(30_000), goDuration(3_600_000), goDuration(90_000), goDuration(500), goDuration(0)], ['30s', '1h0m0s', '1m30s', '500ms', '0s']);
  });
});
