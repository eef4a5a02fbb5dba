// The bench's statistics and ratios (src/bench/stats.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, quantile, ratio, summarize } from '../../src/bench/stats.js';

describe('bench statistics', () => {
  it('quantiles interpolate between the nearest ranks, whatever the input order', () => {
    const xs = [40, 10, 30, 20];
    assert.equal(quantile(xs, 0), 10);
    assert.equal(quantile(xs, 1), 40);
    assert.equal(median(xs), 25);
    assert.equal(quantile(xs, 0.25), 17.5);
    assert.deepEqual(xs, [40, 10, 30, 20], 'the samples are not sorted in place');
  });

  it('p99 of 1..100 lies between the 99th and 100th sample', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(quantile(xs, 0.99), 99.01);
    assert.deepEqual(summarize(xs), { p50: 50.5, p99: 99, n: 100 });
  });

  it('no samples give NaN, one sample is every quantile', () => {
    assert.ok(Number.isNaN(quantile([], 0.5)));
    assert.equal(quantile([7], 0.99), 7);
  });

  it('a ratio is rounded to two decimals, and missing or non-positive references give none', () => {
    assert.equal(ratio(150, 100), 1.5);
    assert.equal(ratio(1, 3), 0.33);
    assert.equal(ratio(5, 0), null);
    assert.equal(ratio(undefined, 10), null);
    assert.equal(ratio(10, null), null);
    assert.equal(ratio(NaN, 10), null);
  });
});
