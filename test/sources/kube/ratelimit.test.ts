// The client-side rate limiter (clientConnection.qps / burst).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../../src/sources/kube/ratelimit.js';

describe('kube source: token bucket', () => {
  it('lets a burst through at once, then paces requests at qps, in order', async () => {
    let now = 0;
    const b = new TokenBucket(10, 3, () => now);
    const done: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) => b.take().then(() => done.push(i)));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(done, [0, 1, 2], 'the burst goes through without waiting');
    now += 100; // one token's worth of time
    await Promise.race([all[3], new Promise((r) => setTimeout(r, 500))]);
    assert.deepEqual(done, [0, 1, 2, 3]);
    now += 100;
    await all[4];
    assert.deepEqual(done, [0, 1, 2, 3, 4]);
  });

  it('qps <= 0 means no limit', async () => {
    const b = new TokenBucket(0, 0);
    for (let i = 0; i < 1000; i++) await b.take();
  });
});
