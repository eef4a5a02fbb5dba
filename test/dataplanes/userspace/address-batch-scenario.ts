// Runs inside a network namespace made by netns.test.ts (as root): the userspace dataplane
// syncs 500 Services with non-loopback ClusterIPs, then removes them, then meets an address
// the kernel refuses. Every external command goes through a counting runner, so the report
// says how many `ip` processes each step ran. Prints one JSON report.
// Refuses to run anywhere but in the namespace named on its command line.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { AddressManager, type Runner } from '../../../src/dataplanes/userspace/addresses.js';
import { execWithTimeout } from '../../../src/util/exec.js';
import { Harness, service, sleep } from './helpers.js';

const [nsName] = process.argv.slice(2);
if (statSync('/proc/self/ns/net').ino !== statSync(`/run/netns/${nsName}`).ino) {
  process.stderr.write(`address-batch-scenario: not inside network namespace ${nsName}; refusing to run\n`);
  process.exit(3);
}

const calls: string[][] = [];
const run: Runner = (binary, args, opts) => {
  calls.push([binary, ...args]);
  return execWithTimeout(binary, args, opts);
};
/** `ip` runs that change addresses (creating the interface is not counted). */
const addressRuns = (): number => calls.filter((c) => c[0] === 'ip' && c[1] !== 'link').length;
const batchRuns = (): number => calls.filter((c) => c[0] === 'ip' && c.includes('-batch')).length;

/** Test addresses on any interface of this namespace, as the kernel lists them. */
const onInterfaces = (): string[] => {
  const j = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' }));
  return j
    .flatMap((l: { addr_info: { local: string }[] }) => l.addr_info.map((a) => a.local))
    .filter((a: string) => a.startsWith('10.97.') || a.startsWith('fd00:97:'))
    .sort();
};
/** The interface kproxy adds to: kproxy0, or lo where the kernel has no dummy driver. */
function device(): string {
  try {
    execFileSync('ip', ['link', 'show', 'kproxy0'], { stdio: 'ignore' });
    return 'kproxy0';
  } catch {
    return 'lo';
  }
}
async function until(fn: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

const N = 500;
const ipOf = (i: number) => `10.97.${Math.floor(i / 200)}.${(i % 200) + 1}`;
const report: Record<string, unknown> = {};
const addresses = new AddressManager({ run });
const h = new Harness({}, { serviceGraceMs: 0, addresses });
try {
  // 1. 500 Services in one sync
  await h.apply(...Array.from({ length: N }, (_, i) => service({ name: `s${i}`, clusterIP: ipOf(i), port: 80 })));
  const expected = Array.from({ length: N }, (_, i) => ipOf(i)).sort();
  const present = onInterfaces();
  report.addedAll = present.length === N && present.every((a, i) => a === expected[i]);
  report.addedCount = present.length;
  report.listeners = h.dataplane.listeners().length;
  report.addRuns = addressRuns();
  report.addBatches = batchRuns();
  report.recordMatchesKernel = JSON.stringify(addresses.installedAddresses()) === JSON.stringify(onInterfaces());

  // 2. all 500 removed in one sync; the addresses go (in one batch) once the listeners closed
  for (let i = 0; i < N; i++) h.tracker.delete('Service', 'default', `s${i}`);
  const before = addressRuns();
  await h.dataplane.sync(h.tracker.snapshot(), false);
  report.removedAll = await until(() => onInterfaces().length === 0, 5000);
  await sleep(100); // a second batch, were there one, would have run by now
  report.removeRuns = addressRuns() - before;
  report.recordEmpty = addresses.installedAddresses().length === 0;

  // 3. one line the kernel refuses (IPv6 turned off on the device, in this namespace only):
  //    the other lines of the batch still apply, the record matches the kernel, and the
  //    next sync, once IPv6 is back, adds the refused address.
  const dev = device();
  execFileSync('sysctl', ['-qw', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
  await h.apply(service({ name: 'f1', clusterIP: '10.97.9.1', port: 81 }), service({ name: 'f6', clusterIP: 'fd00:97::1', port: 81 }), service({ name: 'f2', clusterIP: '10.97.9.2', port: 81 }));
  report.withRefused = onInterfaces();
  report.refusedRecordMatches = JSON.stringify(addresses.installedAddresses()) === JSON.stringify(onInterfaces());
  report.listenersWithRefused = h.dataplane.listeners();
  // the reason reported names the refused line and the kernel's answer
  report.refusedReason = (await addresses.acquireAll(['fd00:97::2', '10.97.9.3'], new Set())).get('fd00:97::2') ?? null;
  await addresses.release('10.97.9.3');
  execFileSync('sysctl', ['-qw', `net.ipv6.conf.${dev}.disable_ipv6=0`]);
  await h.dataplane.sync(h.tracker.snapshot(), false);
  report.afterRetry = onInterfaces();
  report.listenersAfterRetry = h.dataplane.listeners();
} catch (e) {
  report.error = (e as Error).stack;
} finally {
  await h.close();
  report.afterClose = onInterfaces();
  process.stdout.write(JSON.stringify(report) + '\n');
}
