// Strict field validation of a folder, as the API server's: each unknown field with its path
// and a "did you mean", wrong shapes, unknown kinds; through `kproxy services` as a user sees it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { schemaAvailable } from '../../../src/sources/manifests/schema.js';
import { kindProblem, strictProblems } from '../../../src/sources/manifests/strict.js';
import { fromRoot } from '../../helpers/paths.js';

const svc = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', ...meta }, spec });

describe('strict field validation', () => {
  it('reads the field lists of the installed Kubernetes client models', () => {
    assert.equal(schemaAvailable(), true, '@kubernetes/client-node models must be readable, or strict checking would be off');
  });

  it('names each unknown field with its path and a close known field', () => {
    const p = strictProblems('Service', svc({ selecter: { app: 'web' }, tpye: 'NodePort', prots: [{ port: 80 }] }));
    assert.deepEqual(p, [
      { field: 'spec.selecter', reason: 'unknown field (did you mean spec.selector?)' },
      { field: 'spec.tpye', reason: 'unknown field (did you mean spec.type?)' },
      { field: 'spec.prots', reason: 'unknown field (did you mean spec.ports?)' },
    ]);
  });

  it('catches a block indented one level too deep, and fields deep inside lists', () => {
    const deep = strictProblems('Service', svc({ selector: { app: 'web', ports: [{ port: 80 }] } }));
    assert.deepEqual(deep, [{ field: 'spec.selector.ports', reason: 'expected a string, got a list' }]);
    const inPort = strictProblems('Service', svc({ ports: [{ port: 80, targetport: 8080 }] }));
    assert.deepEqual(inPort, [{ field: 'spec.ports[0].targetport', reason: 'unknown field (did you mean spec.ports[0].targetPort?)' }]);
    const misplaced = strictProblems('Service', svc({ ports: [{ port: 80, selector: { app: 'web' } }] }));
    assert.match(misplaced[0].reason, /selector belongs in spec: check its indentation/);
    const pod = strictProblems('Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', readinessProbe: { httpGet: { port: 80, pth: '/' } } }] } });
    assert.deepEqual(
      pod.map((x) => x.field),
      ['spec.containers[0].readinessProbe.httpGet.pth'],
    );
  });

  it('accepts every field of a full object, and checks the apiVersion', () => {
    const full = svc(
      {
        type: 'LoadBalancer',
        clusterIP: '10.0.0.1',
        ports: [{ name: 'h', port: 80, targetPort: 'http', nodePort: 30001, protocol: 'TCP' }],
        externalTrafficPolicy: 'Local',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10 } },
        trafficDistribution: 'PreferClose',
      },
      { labels: { a: 'b' }, annotations: { x: 'y' } },
    );
    assert.deepEqual(strictProblems('Service', { ...full, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4', ipMode: 'VIP' }] } } }), []);
    assert.deepEqual(
      strictProblems('EndpointSlice', { apiVersion: 'v1', kind: 'EndpointSlice', metadata: { name: 's' }, addressType: 'IPv4', endpoints: [] }).map((x) => x.field),
      ['apiVersion'],
    );
  });

  it('reports unknown kinds with a suggestion, and ignores built-in kinds kproxy does not read', () => {
    assert.match(kindProblem('Servce')!.reason, /unknown kind "Servce" \(did you mean Service\?\)/);
    assert.equal(kindProblem('Servce')!.error, true);
    assert.equal(kindProblem('Deployment')!.error, false);
    assert.equal(kindProblem('Service'), null);
  });

  it('kproxy services shows each refused object in its errors, and leaves it out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-strict-'));
    try {
      writeFileSync(
        join(dir, 'a.yaml'),
        [
          'apiVersion: v1\nkind: Service\nmetadata: {name: typo}\nspec:\n  tpye: NodePort\n  ports: [{port: 80}]\n',
          'apiVersion: v1\nkind: Servce\nmetadata: {name: gone}\nspec:\n  ports: [{port: 80}]\n',
          'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n',
          'apiVersion: v1\nkind: Service\nmetadata: {name: good}\nspec:\n  ports: [{port: 80}]\n',
        ].join('---\n'),
      );
      const r = spawnSync(process.execPath, [fromRoot('bin/kproxy.js'), 'services', '--manifests', dir, '--json'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(
        out.services.map((s: { name: string }) => s.name),
        ['good'],
      );
      assert.deepEqual(out.errors.map((e: Record<string, string>) => `${e.kind} ${e.name} ${e.field}`).sort(), ['Service typo spec.tpye', 'Servce gone kind'].sort());
      assert.match(out.errors.find((e: { name: string }) => e.name === 'typo').reason, /did you mean spec\.type\?.*a\.yaml:1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
