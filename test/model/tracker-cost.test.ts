// One EndpointSlice change must cost what changed, not what exists: the snapshot that follows
// it may not walk every Service, port or slice (at 10,000 Services that walk cost more than
// the dataplane's whole partial sync). Counted, not timed: every Map, Set and ProxyState map
// iteration during the change and its snapshot is counted, entry by entry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeTracker } from '../../src/model/tracker.js';
import { noLocalEndpointCounts } from '../../src/model/stats.js';
import type { ProxyState } from '../../src/model/types.js';
import { service, slice } from '../helpers/objects.js';

const SERVICES = 2000;
const METHODS = ['entries', 'keys', 'values', Symbol.iterator] as const;

/** Runs fn with every iterator of the given prototypes counting the entries it yields. */
function countIterated(protos: object[], fn: () => void): number {
  let count = 0;
  const restore: (() => void)[] = [];
  for (const proto of new Set(protos)) {
    const p = proto as Record<string | symbol, unknown>;
    for (const m of METHODS) {
      const orig = p[m] as (this: unknown) => Iterator<unknown>;
      if (typeof orig !== 'function') continue;
      p[m] = function (this: unknown) {
        const it = orig.call(this);
        return {
          next: () => {
            const r = it.next();
            if (!r.done) count++;
            return r;
          },
          [Symbol.iterator]() {
            return this;
          },
        };
      };
      restore.push(() => (p[m] = orig));
    }
    const forEach = p.forEach as (this: unknown, f: (...a: unknown[]) => void) => void;
    if (typeof forEach === 'function') {
      p.forEach = function (this: unknown, f: (...a: unknown[]) => void, self?: unknown) {
        forEach.call(this, (...a: unknown[]) => {
          count++;
          f.apply(self, a);
        });
      };
      restore.push(() => (p.forEach = forEach));
    }
  }
  try {
    fn();
  } finally {
    for (const r of restore) r();
  }
  return count;
}

function cluster(): ChangeTracker {
  const t = new ChangeTracker({ nodeName: 'n1' });
  for (let i = 0; i < SERVICES; i++) {
    t.upsert(service('ns', `s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80, nodePort: 30000 + (i % 2000) }], externalTrafficPolicy: 'Local', type: 'NodePort' }));
    t.upsert(slice('ns', `s${i}`, `s${i}-a`, [{ ip: `10.1.${i >> 8}.${i & 255}`, node: i % 3 === 0 ? 'n1' : 'n2' }], [{ name: 'http', port: 8080 }]));
  }
  return t;
}

const stateMaps = (s: ProxyState) => [s.servicePorts, s.services, s.dns, s.endpointSlices].map((m) => Object.getPrototypeOf(m) as object);

describe('ChangeTracker cost of one change', () => {
  it('a single EndpointSlice change and its snapshot walk no other Service', () => {
    const t = cluster();
    const first = t.snapshot();
    assert.equal(first.servicePorts.size, SERVICES);
    let next = first;
    const walked = countIterated([Map.prototype, Set.prototype, ...stateMaps(first)], () => {
      t.upsert(slice('ns', 's1234', 's1234-a', [{ ip: '10.2.0.1', node: 'n1' }], [{ name: 'http', port: 8080 }]));
      next = t.snapshot();
    });
    assert.deepEqual([...next.changed], ['ns/s1234:http/TCP/IPv4']);
    // A handful of entries (the dirty sets, the Service's own slices and ports), never thousands.
    assert.ok(walked < 50, `one slice change iterated ${walked} entries of ${SERVICES} Services`);

    // The same for a slice deleted, a Service changed and one deleted.
    const w2 = countIterated([Map.prototype, Set.prototype, ...stateMaps(first)], () => {
      t.delete('EndpointSlice', 'ns', 's7-a');
      t.upsert(service('ns', 's8', { clusterIP: '10.96.0.8', ports: [{ name: 'http', port: 81 }] }));
      t.delete('Service', 'ns', 's9');
      next = t.snapshot();
    });
    assert.ok(w2 < 50, `three changes iterated ${w2} entries`);
    assert.deepEqual([...next.changed].sort(), ['ns/s7:http/TCP/IPv4', 'ns/s8:http/TCP/IPv4']);
    assert.deepEqual([...next.deleted], ['ns/s9:http/TCP/IPv4']);
  });

  it('keeps every earlier snapshot as it was, and the no-local-endpoint counts equal a full count', () => {
    const t = cluster();
    const s1 = t.snapshot();
    const ports1 = new Map(s1.servicePorts);
    const slices1 = new Map(s1.endpointSlices);
    assert.deepEqual(t.noLocalEndpointCounts(), noLocalEndpointCounts(s1));
    assert.ok(t.noLocalEndpointCounts().external > 1000);
    for (let i = 0; i < 50; i++) {
      const k = (i * 37) % SERVICES;
      t.upsert(slice('ns', `s${k}`, `s${k}-a`, [{ ip: `10.3.0.${i}`, node: i % 2 ? 'n1' : 'n3' }], [{ name: 'http', port: 8080 }]));
      if (i % 7 === 0) t.delete('Service', 'ns', `s${k + 1}`);
      if (i % 11 === 0) t.delete('EndpointSlice', 'ns', `s${k + 2}-a`);
      const s = t.snapshot();
      assert.deepEqual(t.noLocalEndpointCounts(), noLocalEndpointCounts(s), `after change ${i}`);
    }
    assert.deepEqual(new Map(s1.servicePorts), ports1);
    assert.deepEqual(new Map(s1.endpointSlices), slices1);
    assert.equal(s1.servicePorts.size, SERVICES);
  });
});
