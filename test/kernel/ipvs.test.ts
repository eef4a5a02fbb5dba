// The ipvs kernel suite, traffic group. This machine's kernel may have no IPVS, so the suite
// boots Debian's user-mode-Linux kernel (which has it), runs test/kernel/ipvs/guest-suite.ts
// inside it — every lab in its own network namespaces, `kproxy run --proxy-mode ipvs` programming a
// real IPVS table, real TCP clients — and reports each guest case here. It also checks, on
// the host, that `kproxy rules --proxy-mode ipvs` prints what the guest's kernel holds. (The
// restart group is ipvs-restart.test.ts; the fallback on a kernel without IPVS is
// ipvs-fallback.test.ts.)
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runGuestGroup } from './ipvs/host.js';
import { PROJECT_ROOT } from './uml/launcher.js';

const { skip, out, why } = await runGuestGroup('traffic', [
  'ClusterIP from a Pod: both endpoints, including the Pod itself (hairpin through KUBE-LOOP-BACK)',
  'ClusterIP from the node and from outside it',
  'NodePort from outside the node reaches both endpoints',
  'a Service without endpoints refuses connections at once',
  'ClientIP affinity is IPVS persistence: every request of a client goes to one server',
  'the kproxy.io/scheduler annotation picks the scheduler of a Service',
  'rr alternates exactly between the servers',
  'sh keeps a client on one server',
  'lc sends new connections to the idle server',
  'UDP: datagrams to a ClusterIP reach both endpoints',
  'externalIPs and LoadBalancer IPs reach the endpoints; loadBalancerSourceRanges drops other sources',
  'a UDP endpoint removed is deleted at once and its conntrack entries are cleared',
  'the kernel table is saved for the host to compare with kproxy rules',
  'an endpoint removed while a connection is open keeps that connection and gets no new ones',
]);

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

test('ipvs in the kernel: kproxy rules --proxy-mode ipvs prints what the kernel holds', { skip: skip ?? false }, async () => {
  const manifests = join(out, 'a-manifests');
  assert.ok(existsSync(manifests), `the guest saved no manifests; ${why()}`);
  const r = await run(process.execPath, [
    join(PROJECT_ROOT, 'bin', 'kproxy.js'),
    'rules',
    '--proxy-mode',
    'ipvs',
    '--manifests',
    manifests,
    '--hostname-override',
    'node1',
    '--cluster-cidr',
    '10.244.0.0/16',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const sorted = (lines: string[]) => lines.filter(Boolean).sort();
  const printedIpvs = sorted(r.stdout.split('\n').filter((l) => /^-[Aa] (-t|-u|--sctp-service) /.test(l)));
  const kernelIpvs = sorted(readFileSync(join(out, 'a-ipvsadm.txt'), 'utf8').split('\n'));
  assert.deepEqual(kernelIpvs, printedIpvs);
  // every ipset member printed is in the kernel's set
  const kernelSets = new Set(
    readFileSync(join(out, 'a-ipset.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('add ')),
  );
  const printedMembers = r.stdout.split('\n').filter((l) => l.startsWith('add '));
  assert.ok(printedMembers.length > 5);
  for (const m of printedMembers) assert.ok(kernelSets.has(m), `kernel ipsets lack "${m}"`);
  // every KUBE-* rule printed is in iptables-save, and each jump from a built-in chain is there once
  const saved = readFileSync(join(out, 'a-iptables.txt'), 'utf8').split('\n');
  for (const rule of r.stdout.split('\n').filter((l) => l.startsWith('-A KUBE-'))) {
    assert.ok(saved.includes(rule), `iptables-save lacks: ${rule}`);
  }
  for (const target of ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-PROXY-FIREWALL', 'KUBE-FORWARD']) {
    const n = saved.filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING|INPUT|FORWARD) /.test(l) && l.endsWith(`-j ${target}`)).length;
    assert.ok(n >= 1 && n <= 3, `${n} jumps to ${target}`);
  }
});
