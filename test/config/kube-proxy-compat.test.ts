// What newer kube-proxy versions put in a configuration loads in kproxy: the nodePortAddresses
// keywords all and localhost, iptables.snatNodeInternalIP (as kubeadm writes it, null), the
// KubeProxyNFTablesLocalhostNodePorts gate.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { settingsWithoutEffect } from '../../src/config/effect.js';
import { loadConfig } from '../../src/config/load.js';

test('nodePortAddresses keywords all and localhost stand for their CIDRs; others are refused naming them', () => {
  assert.deepEqual(loadConfig({ flags: { nodeportAddresses: 'all' } }).nodePortAddresses, ['0.0.0.0/0', '::/0']);
  assert.deepEqual(loadConfig({ flags: { nodeportAddresses: 'primary,localhost' } }).nodePortAddresses, ['primary', '127.0.0.0/8', '::1/128']);
  assert.throws(() => loadConfig({ flags: { nodeportAddresses: 'everywhere' } }), /"everywhere" is neither a CIDR nor one of primary, all, localhost/);
});

test('a newer kubeadm file with iptables.snatNodeInternalIP and the nftables localhost gate loads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-compat-'));
  try {
    const file = join(dir, 'config.conf');
    const doc = (snat: string) =>
      [
        'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
        'kind: KubeProxyConfiguration',
        'featureGates: {KubeProxyNFTablesLocalhostNodePorts: true}',
        'nodePortAddresses: [all]',
        `iptables: {localhostNodePorts: null, masqueradeAll: false, masqueradeBit: null, minSyncPeriod: 0s, syncPeriod: 0s, snatNodeInternalIP: ${snat}}`,
      ].join('\n');
    writeFileSync(file, doc('null'));
    const cfg = loadConfig({ flags: { config: file, proxyMode: 'iptables' } });
    assert.deepEqual(cfg.nodePortAddresses, ['0.0.0.0/0', '::/0']);
    assert.equal(cfg.featureGates.KubeProxyNFTablesLocalhostNodePorts, true);
    assert.ok(!settingsWithoutEffect(cfg).some((l) => l.includes('snatNodeInternalIP')), 'null: nothing to say');
    writeFileSync(file, doc('true'));
    const on = loadConfig({ flags: { config: file, proxyMode: 'iptables' } });
    assert.ok(
      settingsWithoutEffect(on).some((l) => /^iptables\.snatNodeInternalIP: no effect.*: not built/.test(l)),
      settingsWithoutEffect(on).join(' | '),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--hostname-override: empty changes nothing, as kube-proxy; spaces only is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-compat-'));
  try {
    const file = join(dir, 'config.conf');
    writeFileSync(file, 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nhostnameOverride: node-1\n');
    assert.equal(loadConfig({ flags: { config: file, hostnameOverride: '' } }).hostnameOverride, 'node-1');
    assert.equal(loadConfig({ flags: { config: file, hostnameOverride: ' node-2 ' } }).hostnameOverride, 'node-2');
    assert.throws(() => loadConfig({ flags: { hostnameOverride: '   ' } }), /--hostname-override: empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
