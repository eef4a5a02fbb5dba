// The ebpf compiler and Service tables without a kernel: in-memory maps behind the same
// interface as kernel maps. Checks the byte layouts, the endpoint sets and verdicts taken
// from the model, incremental updates, and that a reader between any two map operations
// never sees a Service whose backends are missing.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { compile } from '../../../src/dataplanes/ebpf/compile.js';
import { decode, renderMaps } from '../../../src/dataplanes/ebpf/decode.js';
import { beKey, readSvcValue, svcKey, addrPort, memKey, type Family } from '../../../src/dataplanes/ebpf/layout.js';
import { MemoryMap, memoryMaps, ServiceTables, type FamilyMaps, type MapLike } from '../../../src/dataplanes/ebpf/tables.js';
import { ep, service, slice, stateOf } from '../nftables/helpers.js';

const http = [{ name: 'http', port: 80, protocol: 'TCP' }];
const slicePorts = [{ name: 'http', port: 8080, protocol: 'TCP' }];

test('map key and value bytes: the Service key as bpf_sock_addr holds it, plus the protocol', () => {
  assert.equal(svcKey('10.96.0.10', 80, 'TCP', '4').toString('hex'), '0a60000a00500600');
  assert.equal(svcKey('10.96.0.53', 53, 'UDP', '4').toString('hex'), '0a60003500351100');
  assert.equal(svcKey('fd00:10:96::10', 443, 'TCP', '6').toString('hex'), 'fd000010009600000000000000000010' + '01bb0600');
  assert.equal(beKey(7, 2).toString('hex'), '0700000002000000');
  assert.equal(addrPort('10.244.1.11', 8080, '4').toString('hex'), '0af4010b1f900000');
  assert.equal(memKey(3, '10.244.1.11', 8080, '4').toString('hex'), '03000000' + '0af4010b1f900000');
});

test('compile: ClusterIP entries from the model: internal endpoints, no-endpoint verdict, affinity; headless skipped', () => {
  const { state } = stateOf([
    service('ns', 'web', { clusterIP: '10.96.0.10', ports: http }),
    slice('ns', 'web', [ep('10.244.1.11', 'node1'), ep('10.244.1.12', 'node1')], slicePorts),
    service('ns', 'sticky', { clusterIP: '10.96.0.12', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: http }),
    slice('ns', 'sticky', [ep('10.244.1.11', 'node1')], slicePorts),
    service('ns', 'empty', { clusterIP: '10.96.0.16', ports: http }),
    service('ns', 'itl', { clusterIP: '10.96.0.15', internalTrafficPolicy: 'Local', ports: http }),
    slice('ns', 'itl', [ep('10.244.2.13', 'node2')], slicePorts),
    service('ns', 'headless', { clusterIP: 'None', ports: http }),
  ]);
  const all = compile(state);
  assert.deepEqual(
    all
      .filter((e) => e.proto === 'ANY')
      .map((e) => `${e.ip}:${e.port} ${e.noEndpoints}`)
      .sort(),
    ['10.96.0.10:0 reject', '10.96.0.12:0 reject', '10.96.0.15:0 reject', '10.96.0.16:0 reject'],
  );
  const byName = new Map(all.filter((e) => e.proto !== 'ANY').map((e) => [e.servicePortName, e]));
  assert.deepEqual([...byName.keys()].sort(), ['ns/empty:http', 'ns/itl:http', 'ns/sticky:http', 'ns/web:http']);
  assert.deepEqual(byName.get('ns/web:http')!.backends, [
    { ip: '10.244.1.11', port: 8080 },
    { ip: '10.244.1.12', port: 8080 },
  ]);
  assert.equal(byName.get('ns/sticky:http')!.affinitySeconds, 60);
  assert.equal(byName.get('ns/empty:http')!.noEndpoints, 'reject');
  // iTP Local with endpoints only on another node: the model says drop.
  assert.equal(byName.get('ns/itl:http')!.noEndpoints, 'drop');
  assert.deepEqual(byName.get('ns/itl:http')!.backends, []);
});

/** A map that checks the invariant after every single operation. */
class Watched implements MapLike {
  constructor(
    private readonly inner: MemoryMap,
    private readonly check: () => void,
    private readonly ops: string[],
    private readonly name: string,
  ) {}
  update(k: Buffer, v: Buffer) {
    this.inner.update(k, v);
    this.ops.push(`${this.name} update`);
    this.check();
  }
  updateBatch(ks: Buffer, vs: Buffer, count: number) {
    // As the kernel does it: element by element, each visible at once.
    const a = ks.length / Math.max(count, 1);
    const b = vs.length / Math.max(count, 1);
    for (let i = 0; i < count; i++) this.update(ks.subarray(i * a, (i + 1) * a), vs.subarray(i * b, (i + 1) * b));
  }
  lookup(k: Buffer) {
    return this.inner.lookup(k);
  }
  delete(k: Buffer) {
    const r = this.inner.delete(k);
    this.ops.push(`${this.name} delete`);
    this.check();
    return r;
  }
  entries() {
    return this.inner.entries();
  }
}

function watchedMaps(ops: string[]) {
  const raw = memoryMaps();
  const check = () => {
    for (const f of ['4', '6'] as Family[]) {
      for (const [, v] of raw[f].services.entries()) {
        const sv = readSvcValue(v);
        for (let slot = 0; slot < sv.count; slot++) assert.ok(raw[f].backends.lookup(beKey(sv.setId, slot)), `a reader would find set ${sv.setId} slot ${slot} missing`);
      }
    }
  };
  const maps = {} as Record<Family, FamilyMaps>;
  for (const f of ['4', '6'] as Family[]) {
    maps[f] = {} as FamilyMaps;
    for (const role of ['services', 'backends', 'members', 'affinity', 'revnat'] as const) maps[f][role] = new Watched(raw[f][role] as MemoryMap, check, ops, role);
  }
  return { raw, maps };
}

test('incremental updates: only changed Services are written, new set before the switch, old set deleted after; never a Service without its backends', () => {
  const objs = [
    service('ns', 'web', { clusterIP: '10.96.0.10', ports: http }),
    slice('ns', 'web', [ep('10.244.1.11', 'node1'), ep('10.244.1.12', 'node1'), ep('10.244.1.13', 'node1')], slicePorts),
    service('ns', 'other', { clusterIP: '10.96.0.11', ports: http }),
    slice('ns', 'other', [ep('10.244.1.21', 'node1')], slicePorts),
  ];
  const { tracker, state } = stateOf(objs);
  const ops: string[] = [];
  const { raw, maps } = watchedMaps(ops);
  const t = new ServiceTables(maps);
  t.applyAll(compile(state));
  const ports = () => decode(raw).filter((s) => s.proto !== 'ANY');
  const before = ports();
  assert.deepEqual(
    before.map((s) => [s.ip, s.backends.map((b) => b.ip)]),
    [
      ['10.96.0.10', ['10.244.1.11', '10.244.1.12', '10.244.1.13']],
      ['10.96.0.11', ['10.244.1.21']],
    ],
  );

  // One endpoint removed from web.
  ops.length = 0;
  tracker.upsert(slice('ns', 'web', [ep('10.244.1.11', 'node1'), ep('10.244.1.13', 'node1')], slicePorts) as never);
  const s2 = tracker.snapshot();
  assert.deepEqual([...s2.changed], ['ns/web:http/TCP/IPv4']);
  const changed = compile(s2).filter((e) => s2.changed.has(e.key));
  t.applyChanges(changed, s2.deleted);
  assert.deepEqual(ops, ['backends update', 'backends update', 'services update', 'backends delete', 'backends delete', 'backends delete']);
  const after = ports();
  assert.deepEqual(
    after[0].backends.map((b) => b.ip),
    ['10.244.1.11', '10.244.1.13'],
  );
  assert.equal(after[0].svcId, before[0].svcId, 'the Service keeps its id (affinity survives)');
  assert.notEqual(after[0].setId, before[0].setId);
  assert.deepEqual(after[1], before[1], 'the other Service is untouched');
  assert.equal((raw['4'].backends as MemoryMap).size, 3);

  // A full sync with nothing changed writes nothing.
  ops.length = 0;
  t.applyAll(compile(s2));
  assert.deepEqual(ops, []);

  // Service deleted: its key goes first, then its set.
  tracker.delete('Service', 'ns', 'other');
  const s3 = tracker.snapshot();
  ops.length = 0;
  t.applyChanges([], s3.deleted);
  assert.deepEqual(ops, ['services delete', 'backends delete']);
  assert.deepEqual(
    ports().map((s) => s.ip),
    ['10.96.0.10'],
  );
});

test('restart: a second table set adopts what the maps hold and a full sync of the same state writes nothing', () => {
  const { state } = stateOf([
    service('ns', 'sticky', { clusterIP: '10.96.0.12', sessionAffinity: 'ClientIP', ports: http }),
    slice('ns', 'sticky', [ep('10.244.1.11', 'node1'), ep('10.244.1.12', 'node1')], slicePorts),
    service('ns', 'empty', { clusterIP: '10.96.0.16', ports: http }),
  ]);
  const ops: string[] = [];
  const { raw, maps } = watchedMaps(ops);
  new ServiceTables(maps).applyAll(compile(state));
  const t2 = new ServiceTables(maps);
  assert.equal(t2.adopt(), 4, 'two Service ports and their two ClusterIP elements');
  ops.length = 0;
  t2.applyAll(compile(state));
  assert.deepEqual(ops, []);
  const text = renderMaps(decode(raw));
  assert.match(text, /^service 10\.96\.0\.12:80\/TCP svc_id \d+ set \d+ count 2 affinity ClientIP 10800s$/m);
  assert.match(text, /^ {2}slot 0 10\.244\.1\.11:8080 weight 1$/m);
  assert.match(text, /^service 10\.96\.0\.16:80\/TCP .*count 0\n {2}no backends: connect\(\) fails with ECONNREFUSED$/m);
  // Members are written for affinity Services only: the program checks a remembered backend is still in the set.
  assert.equal((raw['4'].members as MemoryMap).size, 2);
});

test('the dataplane: partial syncs keep each ClusterIP\'s "other ports" element while one of its ports lives; equal to a full sync', async () => {
  const { EbpfDataplane } = await import('../../../src/dataplanes/ebpf/apply.js');
  const raw = memoryMaps();
  const dp = new EbpfDataplane({ tables: new ServiceTables(raw), close() {} }, null, (s) => s);
  const two = [
    { name: 'http', port: 80, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ];
  const { tracker, state } = stateOf([
    service('ns', 'web', { clusterIP: '10.96.0.10', ports: two }),
    slice(
      'ns',
      'web',
      [ep('10.244.1.11', 'node1')],
      [
        { name: 'http', port: 8080, protocol: 'TCP' },
        { name: 'dns', port: 5353, protocol: 'UDP' },
      ],
    ),
    service('ns', 'other', { clusterIP: '10.96.0.11', ports: http }),
  ]);
  await dp.sync(state, true);
  const summary = () => decode(raw).map((s) => `${s.ip}:${s.port}/${s.proto}=${s.backends.map((b) => b.ip).join(',') || s.noBackends}`);
  assert.deepEqual(summary(), ['10.96.0.10:0/ANY=ECONNREFUSED', '10.96.0.10:53/UDP=10.244.1.11', '10.96.0.10:80/TCP=10.244.1.11', '10.96.0.11:0/ANY=ECONNREFUSED', '10.96.0.11:80/TCP=ECONNREFUSED']);
  // One port of web removed: its ClusterIP element stays; other deleted: its element goes.
  tracker.upsert(service('ns', 'web', { clusterIP: '10.96.0.10', ports: [two[0]] }) as never);
  tracker.delete('Service', 'ns', 'other');
  const s2 = tracker.snapshot();
  await dp.sync(s2, false);
  assert.deepEqual(summary(), ['10.96.0.10:0/ANY=ECONNREFUSED', '10.96.0.10:80/TCP=10.244.1.11']);
  const fresh = memoryMaps();
  await new EbpfDataplane({ tables: new ServiceTables(fresh), close() {} }, null, (s) => s).sync(s2, true);
  assert.deepEqual(
    decode(fresh).map((s) => [s.ip, s.port, s.proto, s.backends]),
    decode(raw).map((s) => [s.ip, s.port, s.proto, s.backends]),
  );
});
