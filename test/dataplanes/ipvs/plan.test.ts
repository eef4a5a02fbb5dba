import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseList } from '../../../src/dataplanes/ipvs/ipvsadm.js';
import { planTable, type PlanOptions } from '../../../src/dataplanes/ipvs/plan.js';
import { serviceId, type KernelVirtualService, type VirtualService } from '../../../src/dataplanes/ipvs/table.js';

const LIST = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.96.0.10:80 rr
  -> 10.244.1.11:8080             Masq    1      2          0
  -> 10.244.1.12:8080             Masq    0      1          3
TCP  10.96.0.11:80 sh persistent 10800
UDP  [fd00::10]:53 rr
  -> [fd00::2]:5353               Masq    1      0          0
`;

const kernel = (text: string) => new Map(parseList(text).map((v) => [serviceId(v), v] as [string, KernelVirtualService]));
const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({ now: 1_000_000, graceMs: 60_000, fresh: true, excluded: () => false, ...o });
const vs = (address: string, port: number, servers: [string, number][], o: Partial<VirtualService> = {}): VirtualService => ({
  protocol: 'tcp',
  address,
  port,
  scheduler: 'rr',
  persistenceSeconds: 0,
  realServers: servers.map(([a, w]) => ({ address: a, port: 8080, weight: w })),
  ...o,
});

test('ipvsadm -L -n is parsed with weights, connection counts, persistence and IPv6', () => {
  const l = parseList(LIST);
  assert.equal(l.length, 3);
  assert.deepEqual(l[0].realServers[1], { address: '10.244.1.12', port: 8080, weight: 0, activeConns: 1, inactiveConns: 3 });
  assert.equal(l[1].persistenceSeconds, 10800);
  assert.equal(l[1].scheduler, 'sh');
  assert.deepEqual({ p: l[2].protocol, a: l[2].address, port: l[2].port, rs: l[2].realServers[0].address }, { p: 'udp', a: 'fd00::10', port: 53, rs: 'fd00::2' });
});

test('nothing changed: no commands', () => {
  const k = kernel('TCP  10.96.0.10:80 rr\n  -> 10.244.1.11:8080 Masq 1 0 0\n');
  assert.deepEqual(planTable([vs('10.96.0.10', 80, [['10.244.1.11', 1]])], k, new Map(), opts()).commands, []);
});

test('a ready server stuck at weight 0 (e.g. after a restart) gets its weight back', () => {
  const p = planTable(
    [
      vs('10.96.0.10', 80, [
        ['10.244.1.11', 1],
        ['10.244.1.12', 1],
      ]),
    ],
    kernel(LIST),
    new Map(),
    opts(),
  );
  assert.ok(p.commands.includes('-e -t 10.96.0.10:80 -r 10.244.1.12:8080 -m -w 1'), p.commands.join('\n'));
});

test('a TCP server with connections drains at weight 0, then goes when idle or after the grace period', () => {
  const desired = [vs('10.96.0.10', 80, [['10.244.1.12', 1]])];
  const k = kernel('TCP  10.96.0.10:80 rr\n  -> 10.244.1.11:8080 Masq 1 2 0\n  -> 10.244.1.12:8080 Masq 1 0 0\n');
  const p1 = planTable(desired, k, new Map(), opts());
  assert.deepEqual(p1.commands, ['-e -t 10.96.0.10:80 -r 10.244.1.11:8080 -m -w 0']);
  assert.equal(p1.terminating.size, 1);
  // still busy, within the grace period: stays
  const busy = kernel('TCP  10.96.0.10:80 rr\n  -> 10.244.1.11:8080 Masq 0 1 0\n  -> 10.244.1.12:8080 Masq 1 0 0\n');
  assert.deepEqual(planTable(desired, busy, p1.terminating, opts({ now: 1_030_000 })).commands, []);
  // grace period over: deleted even with connections
  assert.deepEqual(planTable(desired, busy, p1.terminating, opts({ now: 1_060_000 })).commands, ['-d -t 10.96.0.10:80 -r 10.244.1.11:8080']);
  // idle: deleted
  const idle = kernel('TCP  10.96.0.10:80 rr\n  -> 10.244.1.11:8080 Masq 0 0 0\n  -> 10.244.1.12:8080 Masq 1 0 0\n');
  assert.deepEqual(planTable(desired, idle, p1.terminating, opts({ now: 1_001_000 })).commands, ['-d -t 10.96.0.10:80 -r 10.244.1.11:8080']);
  // kproxy's own copy (not fresh): counts are unknown, so it waits
  assert.deepEqual(planTable(desired, idle, p1.terminating, opts({ now: 1_001_000, fresh: false })).commands, []);
});

test('UDP servers go at once and are reported for conntrack clean-up; removed services are deleted unless excluded', () => {
  const p = planTable(
    [
      vs('10.96.0.10', 80, [
        ['10.244.1.11', 1],
        ['10.244.1.12', 1],
      ]),
    ],
    kernel(LIST),
    new Map(),
    opts({ excluded: (a) => a === '10.96.0.11' }),
  );
  assert.ok(p.commands.includes('-D -u [fd00::10]:53'), p.commands.join('\n'));
  assert.ok(!p.commands.some((c) => c.includes('10.96.0.11')));
  assert.deepEqual(
    p.udpRemoved.map((u) => u.rs.address),
    ['fd00::2'],
  );
  const q = planTable([vs('fd00::10', 53, [], { protocol: 'udp' })], kernel(LIST), new Map(), opts({ excluded: () => true }));
  assert.deepEqual(q.commands, ['-d -u [fd00::10]:53 -r [fd00::2]:5353']);
  assert.equal(q.udpRemoved.length, 1);
});

test('scheduler or persistence changes edit the service in place', () => {
  const p = planTable([vs('10.96.0.11', 80, [], { scheduler: 'rr', persistenceSeconds: 600 })], kernel(LIST), new Map(), opts({ excluded: (a) => a !== '10.96.0.11' }));
  assert.deepEqual(p.commands, ['-E -t 10.96.0.11:80 -s rr -p 600']);
});
