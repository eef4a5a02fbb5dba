// An object the model refuses (a bad port, a bad IP, no name) is reported with the file and
// line it came from, as the folder's own checks report theirs; fixing it clears the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fromRoot } from '../../helpers/paths.js';
import { Folder, poll, port, service, startSource } from './harness.js';

const services = (dir: string) =>
  JSON.parse(execFileSync(process.execPath, [fromRoot('bin/kproxy.js'), 'services', '--manifests', dir, '--hostname-override', 'n', '--json'], { encoding: 'utf8' })) as {
    services: { name: string }[];
    errors: { kind: string; name: string; field: string; reason: string }[];
  };

test('kproxy services names the file and line of an object the model refuses', () => {
  const f = new Folder();
  try {
    f.write(
      'a.yaml',
      [
        service('good', 'a'),
        'apiVersion: v1\nkind: Service\nmetadata: {name: badport, namespace: demo}\nspec:\n  ports: [{port: 70000}]\n',
        'apiVersion: v1\nkind: Service\nmetadata: {namespace: demo}\nspec: {ports: [{port: 80}]}\n',
      ].join('---\n'),
    );
    const j = services(f.dir);
    assert.deepEqual(
      j.services.map((s) => s.name),
      ['good'],
    );
    const byName = new Map(j.errors.map((e) => [e.name, e]));
    assert.match(byName.get('badport')!.reason, /out of range.* \(a\.yaml:8\)$/);
    assert.equal(byName.get('badport')!.field, 'spec.ports[0].port');
    assert.match(byName.get('(unnamed)')!.reason, /required \(a\.yaml:14\)$/);
  } finally {
    f.cleanup();
  }
});

test('the running folder source: the error carries the location until the file is fixed', async () => {
  const f = new Folder();
  f.write('a.yaml', service('web', 'a', '  clusterIP: 10.96.0.300\n'));
  const r = await startSource(f.dir);
  try {
    const located = await poll(
      () => r.state().errors,
      (e) => e.some((x) => x.name === 'web'),
      5000,
    );
    assert.match(located.value.find((x) => x.name === 'web')!.reason, /not a valid IP address \(a\.yaml:1\)$/);
    f.write('a.yaml', service('web', 'a'));
    await poll(
      () => r.state(),
      (s) => s.errors.length === 0 && port(s, 'demo/web') !== undefined,
      5000,
    );
  } finally {
    await r.stop();
    f.cleanup();
  }
});
