// LoadBalancer layer-2 failover time, measured in the kernel test topology (two nodes running
// `kproxy run --proxy-mode nftables` on one manifests folder, client2 on the shared LAN).
// Each round takes the announcing node off the LAN (its eth-lan link down, as a dead node)
// and signals it the way the cluster would:
//   ready: its Node turns Ready=False in the folder (the node controller's verdict);
//   lease: its kube-node-lease Lease (leaseDurationSeconds 2, renewed every 500 ms by this
//          benchmark for both nodes) stops being renewed.
// Failover time = from that moment to the first successful new TCP connection through the
// other node (a prober in client2 opens one every 20 ms, each waiting at most 150 ms).
// MetalLB documents no number of its own: failover "within a few seconds" once memberlist
// has noticed the node, and more than about 10 s is to be reported as a bug.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { exec, kernelSkipReason, PROJECT_ROOT, Topology, waitFor } from '../../test/kernel/harness.js';
import { addLan } from '../../test/kernel/lan.js';
import { agreedAnnouncer, kproxyArgs, LB4, lbObjects, other, ROLE, type NodeName, type World } from '../../test/kernel/lb-objects.js';

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const skip = kernelSkipReason(['nft', 'ip']);
if (skip) {
  console.log(`bench:lb-failover: ${skip}`);
  process.exit(0);
}

const topo = await Topology.create('lbb');
const dir = mkdtempSync(join(tmpdir(), 'kproxy-lbb-'));
const logs: Record<NodeName, string> = { node1: '', node2: '' };
const results: Record<string, number[]> = { ready: [], lease: [] };
let renewing: Record<NodeName, boolean> = { node1: false, node2: false };
let world: World = { ready: { node1: true, node2: true }, localPod: 'pod1' };
// A node whose Lease is not renewed keeps its Lease object with the last renewTime.
const renewedAt: Partial<Record<NodeName, string>> = {};
const write = () => {
  const now = new Date().toISOString();
  for (const n of ['node1', 'node2'] as const) if (renewing[n]) renewedAt[n] = now;
  const leases = (['node1', 'node2'] as const).filter((n) => renewedAt[n]).map((node) => ({ node, renewTime: renewedAt[node]!, seconds: 2 }));
  writeFileSync(
    join(dir, 'objects.yaml'),
    lbObjects({ ...world, leases })
      .map((o) => stringify(o))
      .join('---\n'),
  );
};
let lines: { start: number; t: number; ok: boolean }[] = [];

try {
  await addLan(topo);
  write();
  for (const n of ['node1', 'node2'] as const) {
    topo
      .spawn(ROLE[n], [process.execPath, join(PROJECT_ROOT, 'bin', 'kproxy.js'), ...kproxyArgs(dir, n)])
      .stderr!.setEncoding('utf8')
      .on('data', (d: string) => (logs[n] += d));
  }
  await waitFor(async () => agreedAnnouncer(logs, LB4), 20_000, 'an announcer');
  const prober = topo.spawn('client2', [process.execPath, join(PROJECT_ROOT, 'dist', 'test', 'kernel', 'lb-prober.js'), LB4, '80', '20', '150']);
  let buf = '';
  prober.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  // Only attempts begun after the node died count (one in flight may still finish through it).
  const firstOkAfter = (t0: number) => lines.find((l) => l.start > t0 && l.ok);
  const link = async (n: NodeName, state: 'up' | 'down') => {
    const r = await exec('ip', ['-n', topo.ns(ROLE[n]), 'link', 'set', 'eth-lan', state]);
    if (r.code !== 0) throw new Error(`ip link set eth-lan ${state} in ${n}: ${r.stderr}`);
  };

  for (const scenario of ['ready', 'lease'] as const) {
    let timer: NodeJS.Timeout | null = null;
    if (scenario === 'lease') {
      renewing = { node1: true, node2: true };
      write();
      timer = setInterval(write, 500);
    }
    for (let round = 0; round < ROUNDS; round++) {
      await waitFor(async () => agreedAnnouncer(logs, LB4), 10_000, 'an announcer');
      await waitFor(async () => lines.slice(-3).length === 3 && lines.slice(-3).every((l) => l.ok), 10_000, 'steady connections');
      const victim = agreedAnnouncer(logs, LB4)!;
      lines = [];
      // The clock starts once the link is down (spawning `ip` takes a while on a loaded machine).
      await link(victim, 'down');
      const t0 = Date.now();
      if (scenario === 'ready') {
        world = { ...world, ready: { ...world.ready, [victim]: false } };
        write();
      } else {
        renewing = { ...renewing, [victim]: false };
      }
      const ok = await waitFor(async () => firstOkAfter(t0), 15_000, `a connection through ${other(victim)}`).catch(async (e) => {
        console.log(
          (await exec('ip', ['-n', topo.ns('client2'), 'neigh'])).stdout,
          JSON.stringify(lines.slice(-5)),
          logs[other(victim)]
            .split('\n')
            .filter((l) => !l.includes('synced'))
            .slice(-8)
            .join('\n'),
        );
        throw e;
      });
      results[scenario].push(ok!.t - t0);
      if (process.env.DEBUG) console.log(scenario, victim, JSON.stringify(lines.slice(0, 6).map((l) => [l.start - t0, l.t - t0, l.ok])));
      // Bring the node back and let the address settle again.
      await link(victim, 'up');
      world = { ...world, ready: { node1: true, node2: true } };
      if (scenario === 'lease') renewing = { node1: true, node2: true };
      write();
      await new Promise((r) => setTimeout(r, 1500));
    }
    if (timer) clearInterval(timer);
    renewing = { node1: false, node2: false };
    delete renewedAt.node1;
    delete renewedAt.node2;
    write();
  }
  prober.stdin!.end();
} finally {
  await topo.destroy();
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `LoadBalancer layer-2 failover (kproxy nftables, 2 nodes, ${ROUNDS} rounds each; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, ${process.env.CI ? 'CI' : 'dev machine'})`,
);
console.log('signal                                   failover ms (each round)          median');
console.log(`Node Ready=False                         ${results.ready.join(', ').padEnd(34)} ${median(results.ready)}`);
console.log(`node Lease expires (duration 2 s)        ${results.lease.join(', ').padEnd(34)} ${median(results.lease)}`);
console.log('MetalLB (documented): "within a few seconds" after memberlist detects the node; > ~10 s is a bug.');
console.log('With kubelet defaults the signal itself comes later: Lease duration 40 s, NotReady after 40 s (node-monitor-grace-period).');
