// List replies read as they stream, through the whole source: items reach the model as they
// arrive, a bad object costs only itself, and a reply cut in the middle neither crashes nor
// leaves behind an object the API server no longer has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { harness, sleep, waitFor, type Harness } from './harness.js';
import { service } from './objects.js';

const rejections: unknown[] = [];
process.on('unhandledRejection', (r) => rejections.push(r));

const has = (h: Harness, name: string) => [...h.state().servicePorts.values()].some((p) => p.name === name);

/** A ServiceList body as the API server writes it (items without kind/apiVersion). */
function listBody(h: Harness, items: ReturnType<typeof service>[]): string {
  return JSON.stringify({
    kind: 'ServiceList',
    apiVersion: 'v1',
    metadata: { resourceVersion: String(h.api.resourceVersion) },
    items: items.map(({ kind, apiVersion, ...rest }) => (void kind, void apiVersion, rest)),
  });
}

/** Writes text in small pieces, a little apart, so the client reads it in many chunks. */
async function dribble(res: ServerResponse, text: string, piece = 97): Promise<void> {
  for (let i = 0; i < text.length && !res.destroyed; i += piece) {
    res.write(text.slice(i, i + piece));
    await sleep(1);
  }
}

test('a first list arriving in small pieces: every good Service, and a bad one costs only itself', async () => {
  const h = await harness();
  try {
    const good = Array.from({ length: 30 }, (_, i) => service('demo', `s${i}`, `10.96.1.${i + 1}`));
    const bad = service('demo', 'bad', 'not-an-ip');
    for (const s of [...good, bad]) h.api.apply(s);
    h.api.listHook = (kind, _q, res) => {
      if (kind !== 'Service') return false;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      void dribble(res, listBody(h, [...good.slice(0, 15), bad, ...good.slice(15)])).then(() => res.end());
      return true;
    };
    await h.source.start();
    for (let i = 0; i < 30; i++) assert.ok(has(h, `s${i}`), `s${i}`);
    assert.ok(!has(h, 'bad'));
    assert.deepEqual(rejections, []);
  } finally {
    await h.close();
  }
});

test('items reach the model while the rest of the reply is still to come', async () => {
  const h = await harness();
  try {
    const all = [service('demo', 'a', '10.96.0.10'), service('demo', 'b', '10.96.0.11'), service('demo', 'c', '10.96.0.12')];
    for (const s of all) h.api.apply(s);
    let rest: (() => void) | null = null;
    h.api.listHook = (kind, _q, res) => {
      if (kind !== 'Service') return false;
      const body = listBody(h, all);
      const at = body.indexOf('"c"');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(body.slice(0, at));
      rest = () => res.end(body.slice(at));
      return true;
    };
    let done = false;
    const start = h.source.start().then(() => (done = true));
    await waitFor('a and b in the model before the reply ends', () => has(h, 'a') && has(h, 'b'), 5000);
    assert.ok(!has(h, 'c') && !done);
    (rest as (() => void) | null)?.();
    await start;
    assert.ok(has(h, 'c'));
  } finally {
    await h.close();
  }
});

test('a first list cut in the middle is not a complete first sync; the next whole one is', async () => {
  const h = await harness();
  try {
    h.api.apply(service('demo', 'a', '10.96.0.10'));
    h.api.apply(service('demo', 'b', '10.96.0.11'));
    let cut = 0;
    h.api.listHook = (kind, _q, res) => {
      if (kind !== 'Service') return false;
      cut++;
      const body = listBody(h, [service('demo', 'a', '10.96.0.10'), service('demo', 'b', '10.96.0.11')]);
      // A complete HTTP reply whose JSON stops half-way through the second item.
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(body.slice(0, body.indexOf('"b"') + 10));
      return true;
    };
    let done = false;
    const start = h.source.start().then(() => (done = true));
    await waitFor('two cut lists', () => cut >= 2, 5000);
    await sleep(50);
    assert.equal(done, false, 'start() waits for a whole list');
    h.api.listHook = null;
    await start;
    assert.ok(has(h, 'a') && has(h, 'b'));
    assert.deepEqual(rejections, []);
  } finally {
    await h.close();
  }
});

test('an object a cut re-list delivered, then deleted before the next list, is deleted', async () => {
  const h = await harness();
  try {
    h.api.apply(service('demo', 'a', '10.96.0.10'));
    h.api.apply(service('demo', 'b', '10.96.0.11'));
    await h.source.start();
    await waitFor('three watches', () => h.api.watchCount() === 3);
    const x = { ...service('demo', 'x', '10.96.0.20') };
    x.metadata = { ...x.metadata, resourceVersion: '999999' };
    let held: ServerResponse | null = null;
    let calls = 0;
    h.api.listHook = (kind, _q, res) => {
      if (kind !== 'Service') return false;
      calls++;
      if (calls > 1) {
        held = res; // the retry waits until the test lets it through
        return true;
      }
      // The re-list holds a, b and a new Service x in full, then the connection dies.
      const body = listBody(h, [service('demo', 'a', '10.96.0.10'), service('demo', 'b', '10.96.0.11'), x, service('demo', 'y', '10.96.0.21')]);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(body.slice(0, body.indexOf('"y"')));
      setTimeout(() => res.destroy(), 20);
      return true;
    };
    h.api.expire();
    h.api.cutWatches();
    await waitFor('x delivered by the cut re-list', () => has(h, 'x'), 5000);
    assert.ok(!has(h, 'y'), 'y never arrived whole');
    await waitFor('the retry', () => held !== null, 5000);
    // x is gone from the API server (it never held it); the next list, a whole one, lacks it.
    h.api.listHook = null;
    (held as ServerResponse | null)?.destroy();
    await waitFor('x deleted after the whole re-list', () => !has(h, 'x'), 5000);
    assert.ok(has(h, 'a') && has(h, 'b'));
    // And the source still follows the API server.
    h.api.remove('Service', 'demo', 'a');
    await waitFor('deletes still flow', () => !has(h, 'a'), 5000);
    assert.deepEqual(rejections, []);
  } finally {
    await h.close();
  }
});
