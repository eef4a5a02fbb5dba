// A hostile or broken API server: malformed watch events, lists that are not lists, replies
// and lines without end. Each costs at most the update it carried; the state stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, sleep, waitFor, type Harness } from './harness.js';
import { service } from './objects.js';

const rejections: unknown[] = [];
process.on('unhandledRejection', (r) => rejections.push(r));

const has = (h: Harness, name: string) => [...h.state().servicePorts.values()].some((p) => p.name === name);
const listRequests = (h: Harness, kind: string) => h.api.requests.filter((r) => !r.watch && r.path.includes(kind)).length;

async function started(opts: Parameters<typeof harness>[0] = {}): Promise<Harness> {
  const h = await harness(opts);
  h.api.apply(service('demo', 'a', '10.96.0.10'));
  h.api.apply(service('demo', 'b', '10.96.0.11'));
  await h.source.start();
  await waitFor('both Services', () => has(h, 'a') && has(h, 'b'));
  await waitFor('three watches', () => h.api.watchCount() === 3);
  return h;
}

/** A re-list of Services: the history is compacted and the watches cut, so the resume gets 410. */
async function forceRelist(h: Harness): Promise<number> {
  const before = listRequests(h, 'services');
  h.api.expire();
  h.api.cutWatches();
  await waitFor('a re-list', () => listRequests(h, 'services') > before, 5000);
  return before;
}

test('malformed watch events are skipped; the informer, the state and later events are unharmed', async () => {
  const h = await started();
  try {
    const shapes = [
      { type: 'ADDED', object: null },
      { type: 'DELETED', object: {} },
      { type: 'MODIFIED', object: 'a string' },
      [{ type: 'ADDED' }],
      { type: 'ADDED' },
      { type: 'MODIFIED', object: { apiVersion: 'v1', kind: 'Service', metadata: null } },
      { type: 'DELETED', object: { kind: 'Service', metadata: { namespace: 'demo' } } },
      { type: 'BOOKMARK', object: { metadata: null } },
      'not json at all {',
    ];
    for (const s of shapes) assert.ok(h.api.sendRaw('Service', (typeof s === 'string' ? s : JSON.stringify(s)) + '\n') > 0);
    h.api.apply(service('demo', 'c', '10.96.0.12'));
    await waitFor('a later valid event', () => has(h, 'c'));
    assert.ok(has(h, 'a') && has(h, 'b'), 'nothing was deleted');
    assert.deepEqual(rejections, []);
  } finally {
    await h.close();
  }
});

test('a re-list that is not a list (200 {}, an item without metadata) keeps every Service', async () => {
  const h = await started();
  try {
    for (const body of ['{}', JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [{ spec: {} }] }), '[]']) {
      let answered = 0;
      h.api.listHook = (kind, _q, res) => {
        if (kind !== 'Service') return false;
        answered++;
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
        return true;
      };
      await forceRelist(h);
      await waitFor('two refused re-lists', () => answered >= 2, 5000);
      assert.ok(has(h, 'a') && has(h, 'b'), `state kept after ${body}`);
      h.api.listHook = null;
      await waitFor('a good re-list', () => h.api.watchCount() >= 3, 5000);
    }
    h.api.remove('Service', 'demo', 'b');
    await waitFor('deletes still flow', () => !has(h, 'b'));
    assert.deepEqual(rejections, []);
  } finally {
    await h.close();
  }
});

test('a first list answered 200 {} is not a complete empty first sync', async () => {
  const h = await harness();
  try {
    h.api.apply(service('demo', 'a', '10.96.0.10'));
    let answered = 0;
    h.api.listHook = (kind, _q, res) => {
      if (kind !== 'Service') return false;
      answered++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return true;
    };
    let done = false;
    const start = h.source.start().then(() => (done = true));
    await waitFor('refused lists', () => answered >= 2, 5000);
    await sleep(100);
    assert.equal(done, false, 'start() waits for a real list');
    h.api.listHook = null;
    await start;
    assert.ok(has(h, 'a'));
  } finally {
    await h.close();
  }
});

test('a list reply without end and a watch line without newline are cut at their limits', async () => {
  const h = await started({ source: { maxListBytes: 1 << 20, maxWatchLineBytes: 1 << 20 } });
  try {
    // The line: 4 MiB without a newline, in pieces.
    const watchesBefore = h.api.requests.filter((r) => r.watch && r.path.includes('services')).length;
    const chunk = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 16; i++) h.api.sendRaw('Service', chunk);
    await waitFor('the watch restarted', () => h.api.requests.filter((r) => r.watch && r.path.includes('services')).length > watchesBefore, 5000);
    h.api.apply(service('demo', 'c', '10.96.0.12'));
    await waitFor('events flow on the new watch', () => has(h, 'c'));
    // The list: streams 64 KiB pieces until the client hangs up.
    let streamed = 0;
    h.api.listHook = (kind, _q, res) => {
      if (kind !== 'Service') return false;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"kind":"ServiceList","apiVersion":"v1","metadata":{},"items":[');
      const piece = `"${'y'.repeat(64 * 1024)}",`;
      const pump = () => {
        while (!res.destroyed && streamed < 64 << 20) {
          streamed += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => res.destroy());
      pump();
      return true;
    };
    await forceRelist(h);
    await waitFor('the reply was cut', () => streamed > 1 << 20, 5000);
    await sleep(200);
    assert.ok(streamed < 16 << 20, `the client stopped reading (${streamed} bytes sent)`);
    assert.ok(has(h, 'a') && has(h, 'b') && has(h, 'c'), 'state kept');
    h.api.listHook = null;
    h.api.remove('Service', 'demo', 'a');
    await waitFor('recovered', () => !has(h, 'a'), 5000);
    assert.deepEqual(rejections, []);
  } finally {
    await h.close();
  }
});
