import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateService } from '../../../src/api/validate.js';
import type { KubeObject } from '../../../src/api/types.js';
import { defaultServiceCIDRs, ServiceAllocator, type AllocationInput } from '../../../src/sources/allocate/allocator.js';
import { addressRange } from '../../../src/sources/allocate/range.js';
import { loadAllocations, saveAllocations } from '../../../src/sources/allocate/state.js';

function input(name: string, spec: Record<string, unknown> = {}): AllocationInput {
  const raw: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' }, spec: { ports: [{ name: 'http', port: 80 }], ...spec } };
  const v = validateService(raw);
  assert.ok(v.ok, JSON.stringify(!v.ok && v.error));
  return { id: `ns/${name}`, raw, svc: v.value };
}

const opts = { serviceCIDRs: ['10.96.0.0/24'], nodePortRange: { min: 30000, max: 30099 } };
function ok(r: ReturnType<ServiceAllocator['assign']>, id: string) {
  const x = r.get(id)!;
  assert.ok(x.ok, JSON.stringify(!x.ok && x.error));
  return x;
}

test('ranges skip the network and broadcast addresses', () => {
  const r = addressRange('10.96.0.0/30');
  assert.equal(r.size, 2n);
  assert.deepEqual([r.at(0n), r.at(1n)], ['10.96.0.1', '10.96.0.2']);
  assert.equal(r.offsetOf('10.96.0.3'), -1n);
  assert.equal(addressRange('fd00::/120').at(0n), 'fd00::1');
  assert.deepEqual(defaultServiceCIDRs('userspace'), ['127.96.0.0/16']);
  assert.deepEqual(defaultServiceCIDRs('nftables'), ['10.96.0.0/12']);
});

test('allocated values are written into the object and validate; stable when others come and go', () => {
  const names = Array.from({ length: 60 }, (_, i) => `s${i}`);
  const a = new ServiceAllocator(opts);
  const first = a.assign([
    ...names.map((n) => input(n)),
    input('np', {
      type: 'NodePort',
      ports: [
        { name: 'a', port: 53, protocol: 'UDP' },
        { name: 'b', port: 53, protocol: 'TCP' },
        { name: 'c', port: 80 },
      ],
    }),
  ]);
  const ips = new Map(names.map((n) => [n, ok(first, `ns/${n}`).allocation.clusterIPs[0]]));
  assert.equal(new Set(ips.values()).size, names.length, 'no two Services share an address');
  for (const ip of ips.values()) assert.ok(addressRange('10.96.0.0/24').offsetOf(ip) >= 0n);
  const np = ok(first, 'ns/np');
  const spec = np.object.spec as { clusterIP: string; clusterIPs: string[]; ports: { nodePort: number }[] };
  assert.equal(spec.clusterIP, np.allocation.clusterIPs[0]);
  assert.equal(spec.ports[0].nodePort, spec.ports[1].nodePort, 'one port number, two protocols: one node port');
  assert.notEqual(spec.ports[0].nodePort, spec.ports[2].nodePort);
  assert.ok(validateService(np.object).ok);

  // Remove half, add others: the survivors keep everything, in a fresh allocator too (hash).
  const survivors = names.filter((_, i) => i % 2 === 0);
  const again = a.assign([input('new1'), ...survivors.map((n) => input(n)), input('new2')]);
  for (const n of survivors) assert.equal(ok(again, `ns/${n}`).allocation.clusterIPs[0], ips.get(n));
  const fresh = new ServiceAllocator(opts).assign(names.map((n) => input(n)));
  for (const n of names) assert.equal(ok(fresh, `ns/${n}`).allocation.clusterIPs[0], ips.get(n), 'the hash alone gives the same answer');
});

test('holdings persist across restarts and beat a newcomer whose hash lands on them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-alloc-'));
  try {
    const path = join(dir, 'allocations.json');
    const tiny = { serviceCIDRs: ['10.0.0.0/29'], nodePortRange: { min: 30000, max: 30005 } }; // 6 addresses
    const a = new ServiceAllocator(tiny);
    const r1 = a.assign(['a', 'b', 'c'].map((n) => input(n, { type: 'NodePort' })));
    saveAllocations(path, a.holdings());
    const held = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, ok(r1, `ns/${n}`).allocation]));
    // Restart with three newcomers listed first: the holders still keep their values.
    const { state } = loadAllocations(path);
    const b = new ServiceAllocator(tiny, state);
    const r2 = b.assign([...['x', 'y', 'z'].map((n) => input(n, { type: 'NodePort' })), ...['a', 'b', 'c'].map((n) => input(n, { type: 'NodePort' }))]);
    for (const n of ['a', 'b', 'c']) assert.deepEqual(ok(r2, `ns/${n}`).allocation, held[n]);
    const all = [...r2.values()].map((r) => (r.ok ? r.allocation.clusterIPs[0] : ''));
    assert.equal(new Set(all).size, 6);
    // The range is now full: a seventh Service fails alone.
    const r3 = b.assign([...['x', 'y', 'z', 'a', 'b', 'c'].map((n) => input(n, { type: 'NodePort' })), input('w')]);
    const w = r3.get('ns/w')!;
    assert.ok(!w.ok && /full/.test(w.error.reason));
    assert.equal([...r3.values()].filter((r) => r.ok).length, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('explicit values are taken as given (outside the range with a warning); a taken one fails the later Service alone', () => {
  const warnings: string[] = [];
  const a = new ServiceAllocator({ ...opts, warn: (m) => warnings.push(m) });
  const first = input('first', { clusterIP: '10.96.0.50', type: 'NodePort', ports: [{ port: 80, nodePort: 30050 }] });
  const r = a.assign([
    first,
    input('outside', { clusterIP: '192.168.1.1', type: 'NodePort', ports: [{ port: 80, nodePort: 40000 }] }),
    input('clash-ip', { clusterIP: '10.96.0.50' }),
    input('clash-port', { type: 'NodePort', ports: [{ port: 81, nodePort: 30050 }] }),
  ]);
  assert.equal(ok(r, 'ns/first').object, first.raw, 'nothing to allocate: the object is passed on untouched');
  assert.deepEqual(ok(r, 'ns/outside').allocation.clusterIPs, ['192.168.1.1']);
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings.join('\n'), /192\.168\.1\.1 is outside the service CIDR/);
  assert.match(warnings.join('\n'), /nodePort 40000 is outside the node port range/);
  const ip = r.get('ns/clash-ip')!;
  assert.ok(!ip.ok);
  assert.deepEqual([ip.error.field, ip.error.reason], ['spec.clusterIP', '10.96.0.50 is already allocated to Service ns/first']);
  const port = r.get('ns/clash-port')!;
  assert.ok(!port.ok);
  assert.equal(port.error.field, 'spec.ports[0].nodePort');
  // Warnings are given once.
  a.assign([input('outside', { clusterIP: '192.168.1.1', type: 'NodePort', ports: [{ port: 80, nodePort: 40000 }] })]);
  assert.equal(warnings.length, 2);
  // A newcomer with an explicit address already held dynamically by another fails; the holder keeps it.
  const b = new ServiceAllocator(opts);
  const held = ok(b.assign([input('dyn')]), 'ns/dyn').allocation.clusterIPs[0];
  const r2 = b.assign([input('claim', { clusterIP: held }), input('dyn')]);
  assert.ok(!r2.get('ns/claim')!.ok);
  assert.equal(ok(r2, 'ns/dyn').allocation.clusterIPs[0], held);
});

test('families: dual-stack where both CIDRs exist; RequireDualStack or an IPv6 family without a CIDR is an error; headless gets nothing', () => {
  const dual = new ServiceAllocator({ serviceCIDRs: ['10.96.0.0/24', 'fd00:96::/112'], nodePortRange: opts.nodePortRange });
  const headless = input('h', { clusterIP: 'None' });
  const r = dual.assign([input('d', { ipFamilyPolicy: 'PreferDualStack' }), input('v6', { ipFamilies: ['IPv6'] }), headless, input('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' })]);
  const d = ok(r, 'ns/d');
  assert.deepEqual(
    d.allocation.clusterIPs.map((ip) => ip.includes(':')),
    [false, true],
  );
  assert.ok(validateService(d.object).ok);
  assert.ok(ok(r, 'ns/v6').allocation.clusterIPs[0].startsWith('fd00:96::'));
  assert.equal(ok(r, 'ns/h').object, headless.raw);
  assert.deepEqual(ok(r, 'ns/h').allocation.clusterIPs, []);
  const lb = ok(r, 'ns/lb');
  assert.ok(lb.allocation.healthCheckNodePort >= 30000 && lb.allocation.healthCheckNodePort <= 30099);
  assert.notEqual(lb.allocation.healthCheckNodePort, lb.allocation.nodePorts['80']);
  const single = new ServiceAllocator(opts).assign([input('req', { ipFamilyPolicy: 'RequireDualStack' }), input('v6', { ipFamilies: ['IPv6'] }), input('pref', { ipFamilyPolicy: 'PreferDualStack' })]);
  assert.ok(!single.get('ns/req')!.ok);
  const v6 = single.get('ns/v6')!;
  assert.ok(!v6.ok && v6.error.field === 'spec.ipFamilies');
  assert.equal(ok(single, 'ns/pref').allocation.clusterIPs.length, 1);
});

test('a result says whether the allocation is the one held before, and its object is built only when read', () => {
  const a = new ServiceAllocator(opts);
  let reads = 0;
  const counted = (i: AllocationInput): AllocationInput => ({
    ...i,
    get raw() {
      reads++;
      return i.raw;
    },
  });
  const np = input('np', { type: 'NodePort' });
  assert.equal(ok(a.assign([counted(input('web')), counted(np)]), 'ns/web').same, false, 'nothing held before');
  const again = a.assign([counted(input('web')), counted(np)]);
  assert.deepEqual([ok(again, 'ns/web').same, ok(again, 'ns/np').same], [true, true]);
  assert.equal(reads, 0, 'no object built while none is read');
  assert.equal(ok(again, 'ns/web').object.kind, 'Service');
  assert.equal(ok(again, 'ns/web').object, ok(again, 'ns/web').object, 'built once');
  assert.equal(reads, 1);
  const held = ok(again, 'ns/web').allocation.clusterIPs[0];
  const moved = a.assign([counted(input('web', { clusterIP: held === '10.96.0.200' ? '10.96.0.201' : '10.96.0.200' })), counted(np)]);
  assert.deepEqual([ok(moved, 'ns/web').same, ok(moved, 'ns/np').same], [false, true]);
});

test('changed(): a pass that leaves every Service what it held (in any order) changes nothing; a new, moved or dropped one does', () => {
  const a = new ServiceAllocator(opts);
  const names = ['a', 'b', 'c'];
  a.assign(names.map((n) => input(n, { type: 'NodePort' })));
  assert.equal(a.changed(), true, 'the first pass');
  a.assign([...names].reverse().map((n) => input(n, { type: 'NodePort' })));
  assert.equal(a.changed(), false, 'the same holdings in another order');
  a.assign(['a', 'b'].map((n) => input(n, { type: 'NodePort' })));
  assert.equal(a.changed(), true, 'c dropped');
  a.assign(
    ['a', 'b', 'c'].map((n) => input(n, { type: 'NodePort' })),
    true,
  );
  assert.equal(a.changed(), true, 'c back');
  a.assign(
    ['a', 'b'].map((n) => input(n, { type: 'NodePort' })),
    true,
  );
  assert.equal(a.changed(), false, 'c absent but kept (keepAbsent)');
  a.assign([input('a', { type: 'NodePort' }), input('b', { type: 'NodePort' }), input('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30099 }] })]);
  assert.equal(a.changed(), true, "c's node port written in");
  // One refused and one new Service: as many entries as before, not the same ones.
  a.assign([input('a', { type: 'NodePort', clusterIP: '10.96.0.200' }), input('x', { clusterIP: '10.96.0.200' }), input('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30099 }] })]);
  assert.equal(a.holdings().size, 2);
});

test('the state file lists Services in localeCompare order, whatever their ids', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-alloc-'));
  try {
    const path = join(dir, 'allocations.json');
    const one = { clusterIPs: ['10.96.0.1'], nodePorts: {}, healthCheckNodePort: 0 };
    for (const ids of [
      ['web-2/a', 'web/a', 'web.x/a', 'w/a-b', 'w/ab', 'w/a9', '1/a', 'w/a'],
      ['web/a', 'Web/a', 'web/_a', 'web/A', 'wéb/a', 'web/b'], // hand-edited: not Service ids
    ]) {
      saveAllocations(path, new Map(ids.map((id) => [id, one])));
      const written = Object.keys((JSON.parse(readFileSync(path, 'utf8')) as { services: object }).services);
      assert.deepEqual(
        written,
        [...ids].sort((x, y) => x.localeCompare(y)),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the written object keeps the definition\'s own keys in order, "__proto__" included (as a key, not a prototype)', () => {
  const raw = JSON.parse(
    '{"apiVersion":"v1","kind":"Service","metadata":{"name":"p","namespace":"ns"},"spec":{"__proto__":{"x":1},"type":"NodePort","ports":[{"name":"http","port":80}]}}',
  ) as KubeObject;
  const v = validateService(raw);
  assert.ok(v.ok);
  const r = new ServiceAllocator(opts).assign([{ id: 'ns/p', raw, svc: v.value }]).get('ns/p')!;
  assert.ok(r.ok);
  const spec = r.object.spec as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(spec), Object.prototype);
  assert.deepEqual(Object.keys(spec), ['__proto__', 'type', 'ports', 'clusterIP', 'clusterIPs', 'ipFamilies']);
  assert.deepEqual(Object.getOwnPropertyDescriptor(spec, '__proto__')?.value, { x: 1 });
  assert.equal((raw.spec as Record<string, unknown>).clusterIP, undefined, 'the definition is not changed');
});
