// Each scheduler on its own, with plain backend objects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maglevTable, maglevTableSize } from '../../../src/dataplanes/userspace/schedulers/maglev.js';
import { createScheduler, type Backend, type SchedulerName } from '../../../src/dataplanes/userspace/schedulers/index.js';

function backends(n: number, base = 1): Backend[] {
  return Array.from({ length: n }, (_, i) => ({ id: `10.0.0.${base + i}:80`, ip: `10.0.0.${base + i}`, port: 80, weight: 1, active: 0 }));
}
const flow = (clientIP: string, destIP = '10.96.0.1') => ({ clientIP, destIP });
const clients = (n: number) => Array.from({ length: n }, (_, i) => `192.168.${(i >> 8) & 255}.${i & 255}`);

function make(name: SchedulerName, bs: Backend[]) {
  const s = createScheduler(name);
  s.setBackends(bs);
  return s;
}

describe('rr', () => {
  it('cycles through the backends in an exact order', () => {
    const bs = backends(3);
    const s = make('rr', bs);
    const got = Array.from({ length: 9 }, () => s.pick(flow('1.1.1.1'))!.id);
    assert.deepEqual(
      got,
      [...bs, ...bs, ...bs].map((b) => b.id),
    );
  });
  it('passes over skipped backends and keeps its place when the set changes', () => {
    const bs = backends(3);
    const s = make('rr', bs);
    assert.equal(s.pick(flow('a'), (b) => b.id === bs[0].id)!.id, bs[1].id);
    s.setBackends([bs[0], bs[1], bs[2], ...backends(1, 9)]);
    assert.equal(s.pick(flow('a'))!.id, bs[2].id);
    assert.equal(
      s.pick(flow('a'), () => true),
      null,
    );
    assert.equal(make('rr', []).pick(flow('a')), null);
  });
});

describe('random', () => {
  it('spreads evenly and never picks a skipped backend', () => {
    const bs = backends(4);
    const s = make('random', bs);
    const count = new Map<string, number>();
    for (let i = 0; i < 8000; i++) {
      const b = s.pick(flow('a'), (x) => x.id === bs[3].id)!;
      count.set(b.id, (count.get(b.id) ?? 0) + 1);
    }
    assert.equal(count.has(bs[3].id), false);
    for (const b of bs.slice(0, 3)) assert.ok(count.get(b.id)! > 2300, `${b.id}: ${count.get(b.id)}`);
  });
});

describe('lc, sed, nq, p2c', () => {
  it('lc picks the backend with the fewest active connections (first on a tie)', () => {
    const bs = backends(3);
    bs[0].active = 5;
    bs[1].active = 2;
    bs[2].active = 2;
    const s = make('lc', bs);
    assert.equal(s.pick(flow('a'))!.id, bs[1].id);
    bs[1].active = 3;
    assert.equal(s.pick(flow('a'))!.id, bs[2].id);
    // filling up: each pick goes to the least loaded
    for (let i = 0; i < 30; i++) s.pick(flow('a'))!.active++;
    const loads = bs.map((b) => b.active).sort();
    assert.ok(loads[2] - loads[0] <= 1, String(loads));
  });
  it('sed weighs (active + 1) / weight', () => {
    const bs: Backend[] = [
      { id: 'a:1', ip: 'a', port: 1, weight: 1, active: 0 },
      { id: 'b:1', ip: 'b', port: 1, weight: 3, active: 1 },
    ];
    // lc: a (0/1 < 1/3); sed: b ((1+1)/3 < (0+1)/1)
    assert.equal(make('lc', bs).pick(flow('x'))!.id, 'a:1');
    assert.equal(make('sed', bs).pick(flow('x'))!.id, 'b:1');
  });
  it('nq sends to an idle backend first, else as sed', () => {
    const bs: Backend[] = [
      { id: 'a:1', ip: 'a', port: 1, weight: 3, active: 1 },
      { id: 'b:1', ip: 'b', port: 1, weight: 1, active: 0 },
    ];
    assert.equal(make('sed', bs).pick(flow('x'))!.id, 'a:1'); // 2/3 < 1/1
    assert.equal(make('nq', bs).pick(flow('x'))!.id, 'b:1'); // idle wins
    bs[1].active = 1;
    assert.equal(make('nq', bs).pick(flow('x'))!.id, 'a:1');
  });
  it('p2c never picks the busiest of several and follows the load', () => {
    const bs = backends(3);
    bs[0].active = 100;
    const s = make('p2c', bs);
    for (let i = 0; i < 500; i++) assert.notEqual(s.pick(flow('a'))!.id, bs[0].id);
    // all load added through p2c stays balanced
    const fresh = backends(4);
    const p = make('p2c', fresh);
    for (let i = 0; i < 400; i++) p.pick(flow('a'))!.active++;
    const loads = fresh.map((b) => b.active);
    assert.ok(Math.max(...loads) - Math.min(...loads) <= 10, String(loads));
  });
});

describe('sh and dh', () => {
  it('sh maps each client IP to the same backend, and spreads clients', () => {
    const bs = backends(4);
    const s = make('sh', bs);
    const again = make('sh', backends(4));
    const seen = new Map<string, number>();
    for (const c of clients(1000)) {
      const b = s.pick(flow(c))!;
      assert.equal(s.pick(flow(c))!.id, b.id);
      assert.equal(again.pick(flow(c))!.id, b.id, 'a second scheduler with the same set agrees');
      seen.set(b.id, (seen.get(b.id) ?? 0) + 1);
    }
    for (const b of bs) assert.ok((seen.get(b.id) ?? 0) > 150, `${b.id}: ${seen.get(b.id)}`);
  });
  it('sh falls back to another backend when the hashed one is skipped', () => {
    const bs = backends(3);
    const s = make('sh', bs);
    const first = s.pick(flow('192.168.1.1'))!;
    const other = s.pick(flow('192.168.1.1'), (b) => b.id === first.id)!;
    assert.notEqual(other.id, first.id);
  });
  it('dh maps by the destination address, whoever the client', () => {
    const s = make('dh', backends(4));
    for (const dest of ['10.96.0.1', '10.96.0.2', '192.168.0.2']) {
      const b = s.pick(flow('1.1.1.1', dest))!;
      for (const c of clients(50)) assert.equal(s.pick(flow(c, dest))!.id, b.id);
    }
  });
});

describe('maglev', () => {
  it('uses a prime table of about 1000 slots per backend, balanced', () => {
    assert.equal(maglevTableSize(1), 1021);
    assert.equal(maglevTableSize(3), 4093);
    assert.equal(maglevTableSize(1000), 65537);
    const t = maglevTable(['a', 'b', 'c'], 4093);
    const count = [0, 0, 0];
    for (const i of t) count[i]++;
    assert.equal(
      count.reduce((a, b) => a + b),
      4093,
    );
    for (const c of count) assert.ok(Math.abs(c - 4093 / 3) <= 2, String(count)); // maglev's near-perfect balance
  });
  it('maps each client to the same backend, independently of the order backends come in', () => {
    const bs = backends(5);
    const s = make('maglev', bs);
    const r = make(
      'maglev',
      [...backends(5)].reverse().sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    for (const c of clients(500)) assert.equal(s.pick(flow(c))!.id, r.pick(flow(c))!.id);
  });
  for (const n of [3, 10, 50]) {
    it(`moves at most about 1/N of clients when one of ${n} backends leaves`, () => {
      const bs = backends(n);
      const s = make('maglev', bs);
      const cs = clients(20000);
      const before = cs.map((c) => s.pick(flow(c))!.id);
      const gone = bs[Math.floor(n / 2)].id;
      s.setBackends(bs.filter((b) => b.id !== gone));
      let moved = 0;
      let movedElsewhere = 0;
      cs.forEach((c, i) => {
        const now = s.pick(flow(c))!.id;
        if (now !== before[i]) {
          moved++;
          if (before[i] !== gone) movedElsewhere++;
        }
      });
      // the departed backend's clients must move; of the others only a sliver may
      const bound = (cs.length / n) * 1.4;
      assert.ok(moved <= bound, `moved ${moved} of ${cs.length} (bound ${bound.toFixed(0)}; 1/N = ${(cs.length / n).toFixed(0)})`);
      assert.ok(movedElsewhere <= cs.length * 0.01, `clients of surviving backends moved: ${movedElsewhere}`);
    });
  }
  it('with the owner skipped, picks another backend', () => {
    const bs = backends(3);
    const s = make('maglev', bs);
    const a = s.pick(flow('192.168.7.7'))!;
    assert.notEqual(s.pick(flow('192.168.7.7'), (b) => b.id === a.id)!.id, a.id);
  });
});
