// The iptables deadlines (src/dataplanes/iptables/timeouts.ts): the formula, and that the
// restore input really has the size per Service the formula was derived from, so the measured
// 10,000 × 10 restore (~105 s wall on a loaded 2-core machine) fits with a margin.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../../src/config/load.js';
import { compileFamily } from '../../../src/dataplanes/iptables/compile.js';
import { renderFamily } from '../../../src/dataplanes/iptables/restore.js';
import { countLines, restoreTimeoutMs, RESTORE_FLOOR_MS, saveTimeoutMs, SAVE_FLOOR_MS, UNKNOWN_TABLE_LINES } from '../../../src/dataplanes/iptables/timeouts.js';
import { ChangeTracker } from '../../../src/model/tracker.js';
import { scaledTimeoutMs } from '../../../src/util/scaled-timeout.js';

describe('scaledTimeoutMs', () => {
  it('is the floor plus the allowance per unit, rounded up; bad counts add nothing', () => {
    assert.equal(scaledTimeoutMs(1000, 0.25, 10), 1003);
    assert.equal(scaledTimeoutMs(1000, 2, 0), 1000);
    assert.equal(scaledTimeoutMs(1000, 2, -5), 1000);
    assert.equal(scaledTimeoutMs(1000, 2, Number.NaN), 1000);
    assert.equal(scaledTimeoutMs(1000, 2, Number.POSITIVE_INFINITY), 1000);
  });
});

describe('iptables deadlines', () => {
  it('count lines of restore text', () => {
    assert.equal(countLines(''), 0);
    assert.equal(countLines('*nat\nCOMMIT\n'), 2);
    assert.equal(countLines('*nat\nCOMMIT'), 2);
  });

  it('keep the old 120 s for small inputs and grow 1 ms per restore line, 0.25 ms per saved line', () => {
    assert.equal(restoreTimeoutMs(0), RESTORE_FLOOR_MS);
    assert.equal(restoreTimeoutMs(50), 120_050);
    assert.equal(restoreTimeoutMs(430_000), 550_000);
    assert.equal(restoreTimeoutMs(430_000, 60_000), 490_000, 'the floor is the option given');
    assert.equal(saveTimeoutMs(0), SAVE_FLOOR_MS);
    assert.equal(saveTimeoutMs(430_000), 227_500);
    assert.equal(saveTimeoutMs(UNKNOWN_TABLE_LINES), 620_000);
    // Monotonic: more input never means less time.
    let last = 0;
    for (const n of [0, 1, 10, 1_000, 100_000, 1_000_000]) {
      assert.ok(restoreTimeoutMs(n) >= last);
      last = restoreTimeoutMs(n);
    }
  });

  it('give the measured 10,000 × 10 restore (~105 s wall) several times its time, from the real input size', () => {
    // 100 Services × 10 endpoints compiled as a full sync writes them; scaled to 10,000.
    const tracker = new ChangeTracker({ nodeName: 'node1', machineAddresses: ['192.168.0.2'] });
    for (let i = 0; i < 100; i++) {
      const name = `s${i}`;
      tracker.upsert({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { namespace: 'ns1', name },
        spec: { clusterIP: `172.30.${i >> 8}.${i & 255}`, ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] },
      } as never);
      tracker.upsert({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { namespace: 'ns1', name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints: Array.from({ length: 10 }, (_, j) => ({ addresses: [`10.${i >> 8}.${i & 255}.${j + 1}`], nodeName: 'node1', conditions: { ready: true } })),
        ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
      } as never);
    }
    const config = { ...defaultConfig(), mode: 'iptables' as const, clusterCIDRs: ['10.0.0.0/8'] };
    const text = renderFamily(compileFamily(tracker.snapshot(), config, 'IPv4'));
    const perService = countLines(text) / 100;
    assert.ok(perService >= 40 && perService <= 46, `~43 lines per Service × 10 endpoints (the formula's basis), got ${perService}`);
    const at10k = restoreTimeoutMs(Math.round(perService * 10_000));
    assert.ok(at10k >= 4 * 105_000, `10,000 × 10 gets ${at10k} ms: at least 4× the 105 s measured`);
    assert.ok(at10k <= 15 * 60_000, `and a hung restore of that size is still killed within 15 minutes (${at10k} ms)`);
  });
});
