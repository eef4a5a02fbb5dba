// The benchmarks' CPU reading: getrusage to the microsecond, against /proc's whole ticks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpuMs, liveCpuAndFaults, selfAndChildrenCpuMs } from '../../src/bench/proc.js';

test('selfAndChildrenCpuMs counts an ended child to the microsecond, as /proc counts it in ticks', () => {
  const precise0 = selfAndChildrenCpuMs();
  const ticks0 = cpuMs('self', true);
  // A child that burns about 100-300 ms of CPU, then is reaped (spawnSync waits for it).
  const r = spawnSync('sh', ['-c', 'i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done']);
  assert.equal(r.status, 0);
  const precise = selfAndChildrenCpuMs() - precise0;
  const ticks = cpuMs('self', true) - ticks0;
  assert.ok(ticks >= 50, `the child should have taken some CPU (ticks: ${ticks} ms)`);
  // Both read the same kernel accounting; ticks round each of four counters down to 10 ms.
  assert.ok(Math.abs(precise - ticks) <= 25, `precise ${precise} ms against ticks ${ticks} ms`);
  assert.notEqual(precise % 10, 0, `a reading to the microsecond is no multiple of 10 ms (${precise})`);
});

test('liveCpuAndFaults reads a live process and throws for one that has ended', () => {
  const before = liveCpuAndFaults(process.pid);
  const pages = Buffer.alloc(8 << 20, 1); // 8 MB written: about 2,000 fresh pages
  const after = liveCpuAndFaults(process.pid);
  assert.ok(pages[0] === 1 && after.minorFaults - before.minorFaults >= 500, `faults ${before.minorFaults} -> ${after.minorFaults}`);
  assert.ok(after.cpuMs >= before.cpuMs && after.cpuMs > 0);
  assert.ok(cpuMs(process.pid) >= after.cpuMs, 'the same clock as cpuMs, read later');
  const r = spawnSync('true');
  assert.throws(() => liveCpuAndFaults(r.pid!), /ENOENT/, 'an ended process is an error, not an idle one');
});
