import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Folder, pod, service } from './harness.js';

const root = join(fileURLToPath(import.meta.url), '../../../../..');

function services(dir: string, ...flags: string[]) {
  const out = execFileSync(process.execPath, [join(root, 'bin/kproxy.js'), 'services', '--manifests', dir, '--hostname-override', 'node-a', '--json', ...flags], { encoding: 'utf8' });
  return JSON.parse(out) as { services: { name: string; clusterIPs: string[]; nodePort: number; clusterEndpoints: string[] }[]; errors: { kind: string; name: string; field: string }[] };
}

test('kproxy services --manifests shows Pod-derived endpoints and allocated addresses, and writes nothing', () => {
  const f = new Folder();
  try {
    f.write(
      'app.yaml',
      [
        service('a', 'a', '  type: NodePort\n'),
        pod('p1', 'a', '127.0.0.11', 8081),
        pod('p2', 'a', '127.0.0.12', 8082, '').replace('status: {podIP: 127.0.0.12}', 'status: {podIP: 127.0.0.12, conditions: [{type: Ready, status: "False"}]}'),
        'apiVersion: v1\nkind: Secret\nmetadata: {name: ignored}\n',
      ].join('---\n'),
    );
    f.write('broken.yaml', 'kind: Service\nmetadata: {name: x\n');
    const a = services(f.dir, '--proxy-mode', 'userspace');
    const svc = a.services.find((s) => s.name === 'a')!;
    assert.deepEqual(svc.clusterEndpoints, ['127.0.0.11:8081'], 'a Pod whose status says not Ready is not an endpoint');
    assert.match(svc.clusterIPs[0], /^127\.96\./);
    assert.ok(svc.nodePort >= 30000 && svc.nodePort <= 32767);
    assert.deepEqual(
      a.errors.map((e) => [e.kind, e.name, e.field]),
      [['File', 'broken.yaml', 'line 3']],
    );
    assert.equal(existsSync(f.path('.kproxy-state')), false, 'a one-shot command does not write state');
    // Same answer twice; the default mode (iptables, as upstream) gets kube-apiserver's default
    // range, and every subcommand that defaults agrees with it.
    assert.deepEqual(services(f.dir, '--proxy-mode', 'userspace'), a);
    const other = services(f.dir).services.find((s) => s.name === 'a')!;
    assert.match(other.clusterIPs[0], /^10\.(9[6-9]|10[0-9]|11[01])\./);
    assert.deepEqual(services(f.dir, '--proxy-mode', 'nftables').services.find((s) => s.name === 'a')!.clusterIPs, other.clusterIPs);
  } finally {
    f.cleanup();
  }
});
