// LoadBalancer addresses on a shared LAN, end to end: two nodes, each running
// `kproxy run --proxy-mode nftables` on the same manifests folder (MetalLB's IPAddressPool and
// L2Advertisement, Services without any status), and an external client on the same
// Ethernet segment (lan.ts). The client's own kernel does the ARP / neighbour discovery;
// the test reads the client's neighbour table and makes real TCP connections.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { kernelSkipReason, PROJECT_ROOT, Topology, waitFor, type ClientResult } from './harness.js';
import { addLan, forgetNeighbours, neighbourMAC } from './lan.js';
import { agreedAnnouncer, kproxyArgs, LB4, LB6, lbObjects as objects, other, responderHolds, ROLE, type NodeName, type World } from './lb-objects.js';

const skip = kernelSkipReason(['nft', 'ip']);
if (skip) console.log(`# loadbalancer kernel suite: ${skip}`);

describe('LoadBalancer addresses announced on a LAN by two kproxy nodes', { skip: skip ?? false }, () => {
  let topo: Topology;
  let dir: string;
  let mac: Record<NodeName, string>;
  const logs: Record<NodeName, string> = { node1: '', node2: '' };
  let firstWinner: NodeName = 'node1';
  let world: World = { ready: { node1: true, node2: true }, localPod: 'pod1' };

  const write = (w: World) => {
    world = w;
    writeFileSync(
      join(dir, 'objects.yaml'),
      objects(w)
        .map((o) => stringify(o))
        .join('---\n'),
    );
  };

  const announcer = (ip: string) => agreedAnnouncer(logs, ip);

  const tcp = (ip: string, count = 1, timeoutMs = 1000): Promise<ClientResult[]> => topo.client('client2', 'tcp', ip, 80, count, timeoutMs);

  const httpGet = async (n: NodeName, path: string) =>
    (await topo.run(ROLE[n], [process.execPath, join(PROJECT_ROOT, 'dist', 'test', 'kernel', 'http-get.js'), `http://127.0.0.1:10249${path}`])).stdout;
  const metrics = (n: NodeName) => httpGet(n, '/metrics');

  before(async () => {
    topo = await Topology.create('lb');
    mac = (await addLan(topo)).mac;
    dir = mkdtempSync(join(tmpdir(), 'kproxy-lb-'));
    write(world);
    for (const n of ['node1', 'node2'] as const) {
      const child = topo.spawn(ROLE[n], [process.execPath, join(PROJECT_ROOT, 'bin', 'kproxy.js'), ...kproxyArgs(dir, n)]);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (logs[n] += d));
    }
    await waitFor(async () => logs.node1.includes('"msg":"synced"') && logs.node2.includes('"msg":"synced"'), 20_000, 'both kproxy instances to sync').catch((e) => {
      throw new Error(`${(e as Error).message}; node1: ${logs.node1.slice(-1500)} node2: ${logs.node2.slice(-1500)}`);
    });
  });

  after(async () => {
    if (process.env.KPROXY_LB_TEST_LOGS) writeFileSync(process.env.KPROXY_LB_TEST_LOGS, `node1:\n${logs.node1}\nnode2:\n${logs.node2}`);
    await topo?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("ARP from the client gets the announcing node's MAC; TCP to the LoadBalancer IP reaches the endpoints", async () => {
    const who = (firstWinner = (await waitFor(async () => announcer(LB4), 10_000, `an announcer for ${LB4} that both nodes agree on`)) as NodeName);
    // The client's ARP request must come after who's responder holds the address: one sent
    // earlier goes unanswered, the takeover's gratuitous ARP fills in the client's pending
    // entry, and the client's TCP then keeps the entry fresh without ever asking again (no
    // response for the counters below).
    await waitFor(async () => responderHolds(logs[who], who, LB4), 10_000, `${who}'s responder to announce ${LB4}`);
    await forgetNeighbours(topo, LB4);
    const rs = await tcp(LB4, 20);
    assert.ok(
      rs.every((r) => r.ok),
      JSON.stringify(rs.filter((r) => !r.ok)),
    );
    assert.deepEqual([...new Set(rs.map((r) => r.pod))].sort(), ['pod1', 'pod3']);
    assert.equal(await neighbourMAC(topo, LB4), mac[who], `client2 resolved ${LB4} to the MAC of ${who}'s eth-lan`);
    // The winner's metrics say so; the other node announces nothing for it.
    const m = await waitFor(
      async () => {
        const t = await metrics(who);
        return /metallb_layer2_requests_received\{ip="192\.168\.80\.200"\} [1-9]/.test(t) && /metallb_layer2_responses_sent\{ip="192\.168\.80\.200"\} [1-9]/.test(t) ? t : '';
      },
      10_000,
      'the layer-2 counters',
    );
    assert.match(m, new RegExp(`metallb_speaker_announced\\{service="demo/web",protocol="layer2",node="${who}",ip="192.168.80.200"\\} 1`));
    assert.match(m, /metallb_allocator_ipv4_addresses_in_use_total\{pool="lan"\} 2/);
    const otherMetrics = await metrics(other(who));
    assert.doesNotMatch(otherMetrics, /metallb_speaker_announced\{service="demo\/web"/);
    assert.doesNotMatch(otherMetrics, /metallb_layer2_responses_sent\{ip="192\.168\.80\.200"\}/);
    // /loadbalancers (what a dashboard reads): the same table on both nodes.
    for (const n of ['node1', 'node2'] as const) {
      const page = JSON.parse(await httpGet(n, '/loadbalancers')) as { node: string; announcements: { ip: string; node: string | null; services: string[]; pool: string }[] };
      assert.equal(page.node, n);
      assert.deepEqual(
        page.announcements.find((a) => a.ip === LB4),
        { ip: LB4, services: ['demo/web'], pool: 'lan', node: who, reason: '', interfaces: ['eth-lan'] },
      );
    }
  });

  test('the announcing node turns not Ready: the other node takes over with a gratuitous ARP; new connections succeed', async () => {
    const old = announcer(LB4) as NodeName;
    const next = other(old);
    assert.equal(await neighbourMAC(topo, LB4), mac[old]);
    const t0 = performance.now();
    write({ ...world, ready: { ...world.ready, [old]: false } });
    // No traffic from the client meanwhile: only the takeover's gratuitous ARP can change the entry.
    await waitFor(async () => (await neighbourMAC(topo, LB4)) === mac[next], 10_000, `client2's neighbour entry for ${LB4} to change to ${next}`);
    const tNeighbour = performance.now() - t0;
    let ok: ClientResult | undefined;
    while (!ok && performance.now() - t0 < 10_000) ok = (await tcp(LB4, 1, 500)).find((r) => r.ok);
    const tConnect = performance.now() - t0;
    assert.ok(ok, 'a new connection succeeded through the new node');
    assert.match(logs[next], /gratuitous announcement sent/);
    console.log(`# failover ${old} -> ${next}: neighbour entry changed after ${tNeighbour.toFixed(0)} ms, first new connection after ${tConnect.toFixed(0)} ms`);
  });

  test('a node whose Lease stops being renewed loses its addresses when the Lease expires', async () => {
    // Both nodes Ready again: the hash winner takes the address back, but its Lease (renewed
    // once, now) runs out in 3 s and nobody renews it.
    const winner = firstWinner;
    const renewed = new Date();
    write({ ...world, ready: { node1: true, node2: true }, leases: [{ node: winner, renewTime: renewed.toISOString(), seconds: 3 }] });
    try {
      await waitFor(async () => (await neighbourMAC(topo, LB4)) === mac[winner], 5000, `${winner} to take ${LB4} back`);
      assert.ok(Date.now() - renewed.getTime() < 3000, 'while its Lease is valid');
      await waitFor(async () => (await neighbourMAC(topo, LB4)) === mac[other(winner)], 8000, `${LB4} to move when ${winner}'s Lease expires`);
      assert.ok(Date.now() - renewed.getTime() >= 3000, 'not before the Lease expired');
      // Each node notices the expiry on its own timer: both logs agree shortly after.
      await waitFor(async () => announcer(LB4) === other(winner), 5000, `both nodes to name ${other(winner)}`);
      assert.ok((await tcp(LB4, 3)).every((r) => r.ok));
    } finally {
      write({ ...world, leases: undefined });
    }
  });

  test('externalTrafficPolicy Local: only a node with a ready local endpoint announces; the announcement follows the endpoint', async () => {
    const ip: string = await waitFor(
      async () => {
        const m = /"ip":"(192\.168\.80\.\d+)","services":\["demo\/local"\]/.exec(logs.node1);
        return m?.[1] ?? '';
      },
      5000,
      'the address of demo/local',
    );
    await waitFor(async () => announcer(ip) === 'node1', 5000, 'node1 (which has pod1) to announce');
    const before = await tcp(ip, 5);
    assert.ok(
      before.every((r) => r.ok && r.pod === 'pod1'),
      JSON.stringify(before),
    );
    assert.equal(await neighbourMAC(topo, ip), mac.node1);
    write({ ...world, localPod: 'pod3' });
    await waitFor(async () => (await neighbourMAC(topo, ip)) === mac.node2, 10_000, 'the announcement to move to node2');
    const afterMove = await waitFor(
      async () => {
        const rs = await tcp(ip, 5, 500);
        return rs.every((r) => r.ok) ? rs : undefined;
      },
      5000,
      'connections through node2',
    );
    assert.ok(afterMove!.every((r) => r.pod === 'pod3'));
  });

  test("IPv6: neighbour discovery gets the announcing node's MAC and TCP reaches the endpoint", async () => {
    await waitFor(async () => announcer(LB6) === 'node1', 5000, 'node1 to announce the IPv6 address');
    const rs = await tcp(LB6, 3);
    assert.ok(
      rs.every((r) => r.ok && r.pod === 'pod1'),
      JSON.stringify(rs),
    );
    assert.equal(await neighbourMAC(topo, LB6), mac.node1);
  });
});
