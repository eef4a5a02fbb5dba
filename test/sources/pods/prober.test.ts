import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePod, type Pod } from '../../../src/sources/pods/pod.js';
import { Prober } from '../../../src/sources/pods/prober.js';
import { startBackend, waitFor } from './helpers.js';

function pod(port: number, probe: Record<string, unknown>): Pod {
  const v = validatePod({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: { app: 'x' } },
    spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: port }], readinessProbe: probe }] },
    status: { podIP: '127.0.0.1' },
  });
  assert.ok(v.ok, JSON.stringify(!v.ok && v.error));
  return v.pod;
}

test('a failing backend leaves the ready set after failureThreshold periods and returns after successThreshold passes', async () => {
  const b = await startBackend();
  const events: { ready: boolean; at: number }[] = [];
  const prober = new Prober({ onChange: (_id, ready) => events.push({ ready, at: performance.now() }), startupJitter: false });
  try {
    const p = pod(b.port, {
      httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] },
      periodSeconds: 1,
      timeoutSeconds: 1,
      failureThreshold: 2,
      successThreshold: 2,
    });
    assert.equal(prober.set('default/p', p), false, 'a Pod with a probe starts not ready');
    // successThreshold 2: ready after the second passing probe, about one period in.
    const first = await waitFor(() => prober.ready('default/p'), 3000);
    assert.ok(first >= 900, `ready after ${first} ms: needs two successes one period apart`);
    assert.equal(b.answered.get(200), 2);
    assert.equal(b.lastPath, '/healthz');
    assert.equal(b.lastHeaders?.['x-probe'], 'yes');
    assert.match(String(b.lastHeaders?.['user-agent']), /^kube-probe\//);

    b.status = 500;
    const failAt = performance.now();
    const left = await waitFor(() => !prober.ready('default/p'), 3500);
    assert.equal(b.answered.get(500), 2, 'exactly failureThreshold failures make it unready');
    assert.ok(left <= 2 * 1000 + 1000, `left the ready set after ${left} ms (failureThreshold x periodSeconds = 2000 ms)`);
    assert.ok(left >= 1000 - 100, `left after ${left} ms: one failure must not be enough`);

    b.status = 204;
    const back = await waitFor(() => prober.ready('default/p'), 3500);
    assert.equal(b.answered.get(204), 2, 'exactly successThreshold successes make it ready again');
    assert.ok(back <= 2 * 1000 + 1000, `back after ${back} ms`);
    assert.deepEqual(
      events.map((e) => e.ready),
      [true, false, true],
    );
    assert.ok(events[1].at >= failAt);
  } finally {
    prober.stop();
    await b.close();
  }
});

test('initialDelaySeconds holds the first probe back; a label edit keeps readiness', async () => {
  const b = await startBackend();
  const prober = new Prober({ onChange: () => {}, startupJitter: false });
  try {
    const probe = { tcpSocket: { port: b.port }, initialDelaySeconds: 1, periodSeconds: 1 };
    prober.set('default/p', pod(b.port, probe));
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(prober.ready('default/p'), false, 'not probed before initialDelaySeconds');
    await waitFor(() => prober.ready('default/p'), 1500);
    const relabelled = { ...pod(b.port, probe), labels: { app: 'y' } };
    assert.equal(prober.set('default/p', relabelled), true, 'same probe, same target: state kept');
  } finally {
    prober.stop();
    await b.close();
  }
});

test('a probe on a closed port keeps the Pod unready; a Pod without a probe is ready', async () => {
  const b = await startBackend();
  const closed = b.port;
  await b.close();
  const prober = new Prober({ onChange: () => {}, startupJitter: false });
  try {
    prober.set('default/p', pod(closed, { tcpSocket: { port: 'http' }, periodSeconds: 1 }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(prober.attemptCount, 1);
    assert.equal(prober.ready('default/p'), false);
    const plain = validatePod({ kind: 'Pod', metadata: { name: 'q' }, spec: { containers: [{ name: 'c' }] }, status: { podIP: '127.0.0.1' } });
    assert.ok(plain.ok);
    assert.equal(prober.set('default/q', plain.pod), true);
  } finally {
    prober.stop();
  }
});

test('Pods found at start are probed at once, then spread over the period; never before initialDelaySeconds', async () => {
  const b = await startBackend();
  const seen: number[] = [];
  const paths = new Set<string>();
  b.server.prependListener('request', (req: { url?: string }) => {
    seen.push(performance.now());
    paths.add(req.url ?? '');
  });
  const prober = new Prober({ onChange: () => {} });
  try {
    const t0 = performance.now();
    for (let i = 0; i < 40; i++) prober.set(`default/p${i}`, pod(b.port, { httpGet: { port: b.port }, periodSeconds: 1 }));
    await prober.firstResults();
    assert.equal(seen.length, 40);
    const firstRound = seen.slice(0, 40);
    for (let i = 0; i < 40; i++) assert.equal(prober.ready(`default/p${i}`), true);
    await waitFor(() => seen.length >= 80, 4000);
    const second = seen.slice(40, 80).map((t) => t - t0);
    assert.ok(Math.min(...second) >= 990, 'the second probe comes a period or more after the first');
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    assert.ok(spread(second) > 300, `second probes spread over ${spread(second)} ms`);
    assert.ok(spread(firstRound) < spread(second), `first round ${spread(firstRound)} ms (at once), second ${spread(second)} ms (random phase)`);
    const delayed = new Prober({ onChange: () => {} });
    const n = seen.length;
    const t1 = performance.now();
    delayed.set('default/late', pod(b.port, { httpGet: { port: b.port, path: '/late' }, periodSeconds: 1, initialDelaySeconds: 1 }));
    await delayed.firstResults(); // nothing to wait for: this one may not probe yet
    assert.ok(performance.now() - t1 < 500, 'firstResults does not wait for a Pod still in its initial delay');
    // The 40 other Pods keep probing '/', so look for '/late' among every path seen, not the last.
    await waitFor(() => paths.has('/late'), 3000);
    assert.ok(performance.now() - t1 >= 990, 'not before initialDelaySeconds');
    assert.ok(seen.length > n);
    delayed.stop();
  } finally {
    prober.stop();
    await b.close();
  }
});
