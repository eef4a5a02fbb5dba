// LoadBalancer addresses in standalone mode: the assignment reaches the model as the
// Service's status, `kproxy services --json` shows who announces it, mistakes are errors
// naming object and field, and assignments persist across restarts in the state folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { trackerFor } from '../../src/cli/state.js';
import { defaultConfig } from '../../src/config/load.js';
import { loadManifestsOnce } from '../../src/sources/manifests/once.js';
import { fromRoot } from '../helpers/paths.js';

const pool = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'lan', namespace: 'metallb-system' }, spec: { addresses: ['192.168.80.200-192.168.80.201'] } };
const ad = { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'lan', namespace: 'metallb-system' }, spec: {} };
const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: name === 'n1' ? '192.168.80.1' : '192.168.80.2' }] } });
const lb = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }] } });
const slice = (svc: string, nodeName: string) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${svc}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  ports: [{ port: 8080 }],
  endpoints: [{ addresses: ['10.244.1.5'], nodeName, conditions: { ready: true } }],
});

function folder(objects: object[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-lb-unit-'));
  writeFileSync(join(dir, 'all.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  return dir;
}

test('kproxy services --json: status.loadBalancer.ingress from the pool, announcedBy, and errors naming object and field', () => {
  const badPool = { ...pool, metadata: { name: 'broken', namespace: 'metallb-system' }, spec: { addresses: ['10.0.0.0/40'] } };
  const dir = folder([pool, badPool, ad, node('n1'), node('n2'), lb('a'), slice('a', 'n2'), lb('b'), lb('c')]);
  try {
    const r = spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), 'services', '--manifests', dir, '--hostname-override', 'n1', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      services: { name: string; loadBalancerIPs: string[]; announcedBy: Record<string, string | null> }[];
      errors: { kind: string; name: string; field: string; reason: string }[];
    };
    const by = (n: string) => out.services.find((s) => s.name === n)!;
    assert.deepEqual(by('a').loadBalancerIPs, ['192.168.80.200']);
    // Only n2 hosts an endpoint, but the policy is Cluster: the hash decides among n1 and n2.
    assert.ok(['n1', 'n2'].includes(by('a').announcedBy['192.168.80.200']!));
    assert.deepEqual(by('b').announcedBy, { '192.168.80.201': null }); // no endpoints: nobody announces
    assert.deepEqual(by('c').loadBalancerIPs, []);
    const e = out.errors.find((x) => x.name === 'c')!;
    assert.equal(e.kind, 'Service');
    assert.equal(e.field, 'status.loadBalancer.ingress');
    assert.match(e.reason, /no free address/);
    const pe = out.errors.find((x) => x.kind === 'IPAddressPool')!;
    assert.equal(pe.name, 'broken');
    assert.equal(pe.field, 'spec.addresses[0]');
    // One-shot commands never write the state folder.
    assert.ok(!existsSync(join(dir, '.kproxy-state', 'loadbalancers.json')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('assignments persist in the state folder and survive a restart that would choose differently', () => {
  const dir = folder([pool, ad, node('n1'), lb('z')]);
  try {
    const cfg = { ...defaultConfig(), manifests: dir, hostnameOverride: 'n1' };
    const t1 = trackerFor(cfg, { persist: true });
    loadManifestsOnce(dir, t1, cfg);
    const s1 = t1.snapshot();
    assert.deepEqual(
      s1.services.get('default/z')!.loadBalancerIngress.map((g) => g.ip),
      ['192.168.80.200'],
    );
    const saved = JSON.parse(readFileSync(join(dir, '.kproxy-state', 'loadbalancers.json'), 'utf8'));
    assert.deepEqual(saved.services['default/z'], { ips: ['192.168.80.200'], pool: 'lan' });
    // Restart with a newcomer that sorts first: z keeps .200, the newcomer gets .201.
    writeFileSync(join(dir, 'all.yaml'), [pool, ad, node('n1'), lb('a'), lb('z')].map((o) => stringify(o)).join('---\n'));
    const t2 = trackerFor(cfg, { persist: true });
    loadManifestsOnce(dir, t2, cfg);
    const s2 = t2.snapshot();
    assert.deepEqual(
      s2.services.get('default/z')!.loadBalancerIngress.map((g) => g.ip),
      ['192.168.80.200'],
    );
    assert.deepEqual(
      s2.services.get('default/a')!.loadBalancerIngress.map((g) => g.ip),
      ['192.168.80.201'],
    );
    // Every dataplane sees the address: it is a captured LoadBalancer IP of the service port.
    const sp = [...s2.servicePorts.values()].find((p) => p.name === 'a')!;
    assert.deepEqual(sp.loadBalancerIPs, ['192.168.80.201']);
    assert.ok(sp.external !== null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
