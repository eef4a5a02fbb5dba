// A restart without the allocation state file must not take a cluster IP away from the
// Service that held it. A younger Service that writes the same address in its manifest was
// refused while kproxy ran (as the API server refuses it); after the restart it is still the
// one refused, and the older Service keeps its address. Age: metadata.creationTimestamp, else
// the manifest file's modification time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateService } from '../../../src/api/validate.js';
import type { KubeObject } from '../../../src/api/types.js';
import { ServiceAllocator, type AllocationInput } from '../../../src/sources/allocate/allocator.js';
import type { ObjectSink } from '../../../src/sources/sink.js';
import type { ObjectError } from '../../../src/util/errors.js';
import { startOnce } from './start-once.js';

function input(name: string, createdAt: number | undefined, clusterIP?: string): AllocationInput {
  const raw: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' }, spec: { ports: [{ port: 80 }], ...(clusterIP ? { clusterIP } : {}) } };
  const v = validateService(raw);
  assert.ok(v.ok);
  return { id: `ns/${name}`, raw, svc: v.value, createdAt };
}
const opts = { serviceCIDRs: ['10.96.0.0/24'], nodePortRange: { min: 30000, max: 30099 } };

test('without holdings, the older Service keeps its address and the younger one that wrote it is refused', () => {
  const x = (() => {
    const r = new ServiceAllocator(opts).assign([input('a', undefined)]).get('ns/a')!;
    assert.ok(r.ok);
    return r.allocation.clusterIPs[0];
  })();
  // a (allocated, older) and b (x written in its manifest, younger), in either file order.
  for (const order of [0, 1]) {
    const inputs = [input('a', 1_000), input('b', 2_000, x)];
    const r = new ServiceAllocator(opts).assign(order ? inputs.reverse() : inputs);
    const a = r.get('ns/a')!;
    const b = r.get('ns/b')!;
    assert.ok(a.ok && a.allocation.clusterIPs[0] === x, `a keeps ${x} (file order ${order})`);
    assert.ok(!b.ok, 'b is refused');
    assert.equal(b.error.field, 'spec.clusterIP');
    assert.match(b.error.reason, new RegExp(`${x.replace(/\./g, '\\.')} is already allocated to Service ns/a`));
  }
  // The other way round: b existed first, so it has x and a was given another address.
  const r = new ServiceAllocator(opts).assign([input('a', 2_000), input('b', 1_000, x)]);
  const a = r.get('ns/a')!;
  const b = r.get('ns/b')!;
  assert.ok(b.ok && b.allocation.clusterIPs[0] === x);
  assert.ok(a.ok && a.allocation.clusterIPs[0] !== x);
  // Two manifests writing the same address: the older one has it.
  const both = new ServiceAllocator(opts).assign([input('c', 5_000, '10.96.0.77'), input('d', 4_000, '10.96.0.77')]);
  assert.ok(both.get('ns/d')!.ok);
  assert.ok(!both.get('ns/c')!.ok);
});

interface Seen {
  ips: Map<string, string>;
  errors: Map<string, ObjectError>;
}

/** One kproxy start on the folder (start-once.ts): what it gave the sink. */
function start(dir: string): Seen {
  const seen: Seen = { ips: new Map(), errors: new Map() };
  const sink: ObjectSink = {
    upsert: (o) => {
      const spec = o.spec as { clusterIP?: string };
      const m = o.metadata as { namespace: string; name: string };
      if (o.kind === 'Service' && spec.clusterIP) seen.ips.set(`${m.namespace}/${m.name}`, spec.clusterIP);
      return null;
    },
    delete: (_k, ns, name) => void seen.ips.delete(`${ns}/${name}`),
    reportError: (e) => void seen.errors.set(`${e.namespace}/${e.name}`, e),
    clearError: () => {},
  };
  startOnce(dir, sink, ['127.96.0.0/16']);
  return seen;
}

const svc = (name: string, clusterIP?: string) =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: demo}\nspec: {${clusterIP ? `clusterIP: ${clusterIP}, ` : ''}ports: [{port: 80}]}\n`;

test('a folder restarted without its state file: the Service that held the address keeps it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-restart-'));
  try {
    writeFileSync(join(dir, 'z-web.yaml'), svc('web'));
    const hour = Date.now() / 1000 - 3600;
    utimesSync(join(dir, 'z-web.yaml'), hour, hour);
    const x = start(dir).ips.get('demo/web')!;
    assert.ok(x);
    // Later a second Service writes web's address in its manifest (a file read first, too).
    writeFileSync(join(dir, 'a-thief.yaml'), svc('thief', x));
    const running = start(dir);
    assert.equal(running.ips.get('demo/web'), x, 'with the state file: web keeps it');
    assert.match(running.errors.get('demo/thief')?.reason ?? '', /already allocated to Service demo\/web/);

    rmSync(join(dir, '.kproxy-state'), { recursive: true, force: true });
    const restarted = start(dir);
    assert.equal(restarted.ips.get('demo/web'), x, 'without the state file: web still keeps its address');
    assert.equal(restarted.ips.get('demo/thief'), undefined);
    assert.match(restarted.errors.get('demo/thief')?.reason ?? '', /already allocated to Service demo\/web/);

    // creationTimestamp, when written, says who is older even against the file times.
    rmSync(join(dir, '.kproxy-state'), { recursive: true, force: true });
    writeFileSync(join(dir, 'a-thief.yaml'), svc('thief', x).replace('namespace: demo}', 'namespace: demo, creationTimestamp: "2020-01-01T00:00:00Z"}'));
    const stamped = start(dir);
    assert.equal(stamped.ips.get('demo/thief'), x, 'the older creationTimestamp holds it');
    assert.notEqual(stamped.ips.get('demo/web'), x);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
