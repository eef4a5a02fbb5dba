// The zone's bookkeeping: names (and empty non-terminals) come and go with their Services,
// and unchanged Services keep their prepared answers across syncs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeTracker } from '../../src/model/tracker.js';
import { loadManifestsOnce } from '../../src/sources/manifests/once.js';
import { nameToKey } from '../../src/dns/query.js';
import { Zone } from '../../src/dns/zone.js';
import { FIXTURES } from './helpers.js';

describe('zone bookkeeping', () => {
  it('returns to its own names once every Service is gone', () => {
    const tracker = new ChangeTracker({ nodeName: 'n' });
    const zone = new Zone({ zone: 'cluster.local', ttl: 5 });
    const empty = zone.size;
    loadManifestsOnce(FIXTURES, tracker);
    assert.ok(zone.update(tracker.snapshot()));
    assert.ok(zone.size > empty + 20, `${zone.size} names`);
    assert.ok(zone.get(nameToKey('demo.svc.cluster.local')), 'namespace exists as an empty non-terminal');
    for (const id of tracker.current().services.keys()) {
      const [ns, name] = id.split('/');
      tracker.delete('Service', ns, name);
    }
    assert.ok(zone.update(tracker.snapshot()));
    assert.equal(zone.size, empty);
    assert.equal(zone.get(nameToKey('demo.svc.cluster.local')), undefined);
    assert.equal(zone.get(nameToKey('svc.cluster.local')), undefined);
  });

  it('keeps the prepared answers of Services that did not change', () => {
    const tracker = new ChangeTracker({ nodeName: 'n' });
    const zone = new Zone({ zone: 'cluster.local', ttl: 5 });
    loadManifestsOnce(FIXTURES, tracker);
    zone.update(tracker.snapshot());
    const web = zone.get(nameToKey('web.demo.svc.cluster.local'))!;
    web.prepared = new Map([[1, null]]);
    tracker.upsert({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'late', namespace: 'demo' }, spec: { clusterIP: '10.96.9.9', ports: [{ port: 80 }] } });
    assert.ok(zone.update(tracker.snapshot()));
    assert.equal(zone.get(nameToKey('web.demo.svc.cluster.local'))!.prepared?.size, 1);
    assert.equal(zone.update(tracker.snapshot()), false, 'a snapshot without changes changes nothing');
  });
});
