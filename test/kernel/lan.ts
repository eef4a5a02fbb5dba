// A shared Ethernet segment for layer-2 tests, added to the harness topology: a bridge lan0
// inside client2's namespace, with the node and node2 attached by veth pairs and client2
// itself on the bridge. client2 then sees both nodes as neighbours, as an external client on
// a bare-metal LAN does.
//
//   client2 lan0 192.168.80.100 / fd00:80::100
//     ├─ lan-n1 ── node  eth-lan 192.168.80.1 / fd00:80::1
//     └─ lan-n2 ── node2 eth-lan 192.168.80.2 / fd00:80::2
import { exec, type Topology } from './harness.js';

export const LAN = {
  client: '192.168.80.100',
  client6: 'fd00:80::100',
  node1: '192.168.80.1',
  node2: '192.168.80.2',
  node16: 'fd00:80::1',
  node26: 'fd00:80::2',
} as const;

async function must(args: string[]): Promise<string> {
  const r = await exec('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function addLan(topo: Topology): Promise<{ mac: { node1: string; node2: string } }> {
  const c = topo.ns('client2');
  await must(['-n', c, 'link', 'add', 'lan0', 'type', 'bridge']);
  await must(['-n', c, 'link', 'set', 'lan0', 'up']);
  await must(['-n', c, 'addr', 'add', `${LAN.client}/24`, 'dev', 'lan0']);
  await must(['-n', c, 'addr', 'add', `${LAN.client6}/64`, 'dev', 'lan0', 'nodad']);
  // The client ignores gratuitous ARP for addresses it has no entry for (Linux's default,
  // written out because a new namespace inherits the host's value): the tests count on an
  // announcement updating an existing entry, and on a flushed entry coming back only through
  // an ARP request the client sends itself.
  for (const conf of ['all', 'lan0']) {
    const r = await exec('ip', ['netns', 'exec', c, 'sysctl', '-qw', `net.ipv4.conf.${conf}.arp_accept=0`]);
    if (r.code !== 0) throw new Error(`sysctl net.ipv4.conf.${conf}.arp_accept in ${c}: ${r.stderr.trim()}`);
  }
  const mac = { node1: '', node2: '' };
  for (const [role, port, ip, ip6, key] of [
    ['node', 'lan-n1', LAN.node1, LAN.node16, 'node1'],
    ['node2', 'lan-n2', LAN.node2, LAN.node26, 'node2'],
  ] as const) {
    const ns = topo.ns(role);
    await must(['link', 'add', 'eth-lan', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', c]);
    await must(['-n', c, 'link', 'set', port, 'master', 'lan0']);
    await must(['-n', c, 'link', 'set', port, 'up']);
    await must(['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth-lan']);
    await must(['-n', ns, 'addr', 'add', `${ip6}/64`, 'dev', 'eth-lan', 'nodad']);
    await must(['-n', ns, 'link', 'set', 'eth-lan', 'up']);
    mac[key] = (await must(['-n', ns, '-j', 'link', 'show', 'eth-lan'])).match(/"address":"([0-9a-f:]{17})"/)![1];
  }
  return { mac };
}

/** The MAC client2 has for an address (its neighbour table), or null. */
export async function neighbourMAC(topo: Topology, ip: string): Promise<string | null> {
  const r = await exec('ip', ['-n', topo.ns('client2'), '-j', 'neigh', 'show', ip]);
  const list = JSON.parse(r.stdout || '[]') as { lladdr?: string; state?: string[] }[];
  return list.find((e) => e.lladdr && !e.state?.includes('FAILED'))?.lladdr ?? null;
}

/**
 * Empties client2's neighbour table on the LAN; throws unless `ip` is then unknown to it, so
 * the client's next packet to `ip` has to start with an ARP request (or neighbour solicitation).
 */
export async function forgetNeighbours(topo: Topology, ip: string): Promise<void> {
  await must(['-n', topo.ns('client2'), 'neigh', 'flush', 'dev', 'lan0']);
  const left = (await must(['-n', topo.ns('client2'), 'neigh', 'show', ip, 'dev', 'lan0'])).trim();
  if (left) throw new Error(`client2 still has a neighbour entry for ${ip} after a flush: ${left}`);
}
