// `kproxy services` as a user runs it: the real binary over a folder with good and broken objects.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fromRoot } from '../helpers/paths.js';

function kproxy(...args: string[]) {
  return spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), ...args], { encoding: 'utf8' });
}

describe('kproxy services', () => {
  it('lists every valid service and one error per broken object, naming it and its field', () => {
    const r = kproxy('services', '--manifests', fromRoot('test/fixtures/mixed'), '--hostname-override', 'node-a', '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const byKey = new Map<string, Record<string, unknown>>(out.services.map((s: Record<string, unknown>) => [`${s.namespace}/${s.name}:${s.portName}`, s]));
    assert.deepEqual([...byKey.keys()].sort(), ['shop/local-only:', 'shop/web:http', 'shop/web:https']);
    const web = byKey.get('shop/web:http')!;
    assert.deepEqual(web.clusterIPs, ['10.96.0.10']);
    assert.deepEqual(web.clusterEndpoints, ['10.0.1.1:8080', '10.0.2.1:8080'], 'ready endpoints only; terminating one ignored while others are ready');
    assert.deepEqual(web.localEndpoints, []);
    const local = byKey.get('shop/local-only:')!;
    assert.deepEqual(local.clusterIPs, ['10.96.0.11'], 'leading zeros accepted and written back canonical');
    assert.equal(local.protocol, 'UDP');
    assert.equal(local.nodePort, 30081);
    assert.equal(local.sessionAffinity, 'ClientIP');
    assert.deepEqual(local.localEndpoints, [], 'no endpoint on this node');
    const errors = out.errors.map((e: Record<string, string>) => `${e.kind} ${e.namespace}/${e.name} ${e.field}`).sort();
    assert.deepEqual(errors, [
      'File /garbage.yaml line 1',
      'Service shop/bad-ip spec.clusterIP',
      'Service shop/bad-proto spec.ports[0].protocol',
      'Service shop/dup-names spec.ports[1].name',
      'Service shop/neg-timeout spec.sessionAffinityConfig.clientIP.timeoutSeconds',
      'Service shop/port-zero spec.ports[0].port',
    ]);
  });

  it('prints a readable table with the rejected objects', () => {
    const r = kproxy('services', '--manifests', fromRoot('test/fixtures/mixed'), '--hostname-override', 'node-a');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /shop\/web:http\s+TCP\s+10\.96\.0\.10\s+80/);
    assert.match(r.stdout, /6 rejected object\(s\)/);
    assert.match(r.stdout, /Service shop\/port-zero: spec\.ports\[0\]\.port: 0 is out of range/);
  });

  it('refuses a bad configuration before doing anything, naming the flag', () => {
    const r = kproxy('services', '--manifests', fromRoot('test/fixtures/mixed'), '--proxy-mode', 'warp');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--proxy-mode: unknown proxy mode "warp"/);
  });

  it('without --manifests names the two sources it can read: a folder, or a running kproxy (--live)', () => {
    const r = kproxy('services');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'kproxy: --manifests: required (or --live, to ask a running kproxy): the folder of Kubernetes YAML to read\n');
  });
});
