// Runs inside one of nft-writer.test.ts's namespaces (it checks): drives an NftablesDataplane
// through a fixed scenario of syncs and prints, after each, what the kernel holds (`nft -j
// list ruleset`, handles dropped and elements sorted) and which writer wrote it.
//   scenario "steps <netlink|nft>": the same changes, written through the netlink element
//     writer where the plan allows it, or through nft alone;
//   scenario "failure": a netlink batch the kernel refuses changes nothing, and the next
//     sync replaces the tables.
import { execFileSync } from 'node:child_process';
import { NftablesDataplane } from '../../src/dataplanes/nftables/apply.js';
import { ElementWriter } from '../../src/dataplanes/nftables/netlink/writer.js';
import { ProxyMetrics } from '../../src/metrics/metrics.js';
import { ChangeTracker } from '../../src/model/tracker.js';
import { silentLogger } from '../../src/util/log.js';
import { config, ep, service, slice } from '../dataplanes/nftables/helpers.js';
import { assertInTestNetns } from './netns-guard.js';

assertInTestNetns();

const [scenario, writerName] = process.argv.slice(2);

/** The kernel's ruleset, comparable across namespaces: no handles, elements and objects sorted. */
function listing(): string {
  const json = JSON.parse(execFileSync('nft', ['-j', 'list', 'ruleset'], { encoding: 'utf8' })) as { nftables: Record<string, Record<string, unknown>>[] };
  const out: string[] = [];
  const position = new Map<string, number>();
  for (const item of json.nftables) {
    const [kind, body] = Object.entries(item)[0];
    if (kind === 'metainfo') continue;
    delete body.handle;
    if (Array.isArray(body.elem)) body.elem = body.elem.map((e) => JSON.stringify(e)).sort();
    if (kind === 'rule') {
      const chain = `${body.family} ${body.table} ${body.chain}`;
      position.set(chain, (position.get(chain) ?? 0) + 1);
      body.position = position.get(chain);
    }
    out.push(`${kind} ${JSON.stringify(body)}`);
  }
  return out.sort().join('\n');
}

function prng(seed: number): (n: number) => number {
  let x = seed;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

const SERVICES = 12;
/** Service i: every kind the element writer encodes (ClusterIP, NodePort, LB with source ranges, affinity, UDP, IPv6). */
function objects(i: number, endpoints: number, gen: number) {
  const v6 = i % 4 === 3;
  const proto = i % 3 === 1 ? 'UDP' : 'TCP';
  const type = ['ClusterIP', 'NodePort', 'LoadBalancer'][i % 3];
  const spec: Record<string, unknown> = {
    type,
    clusterIP: v6 ? `fd00:30::${i + 1}` : `172.30.0.${i + 1}`,
    ipFamilies: [v6 ? 'IPv6' : 'IPv4'],
    ports: [{ name: 'p', port: 80, protocol: proto, ...(type === 'ClusterIP' ? {} : { nodePort: 30000 + i }) }],
    externalTrafficPolicy: i % 5 === 2 ? 'Local' : 'Cluster',
    sessionAffinity: i % 6 === 5 ? 'ClientIP' : 'None',
  };
  if (type === 'LoadBalancer' && !v6) spec.loadBalancerSourceRanges = ['203.0.113.0/24'];
  const status = type === 'LoadBalancer' ? { loadBalancer: { ingress: [{ ip: v6 ? `fd00:99::${i + 1}` : `1.2.3.${i + 1}` }] } } : undefined;
  const eps = Array.from({ length: endpoints }, (_, k) => {
    const n = (i * 17 + k * 5 + gen) % 250;
    return ep(v6 ? `fd00:10::${n + 1}` : `10.0.${k % 3}.${n + 1}`, ['node1', 'node2'][(k + gen) % 2]);
  });
  return [service('ns', `svc${i}`, spec, status), slice('ns', `svc${i}`, eps, [{ name: 'p', port: 8080, protocol: proto }], `svc${i}-1`, v6 ? 'IPv6' : 'IPv4')];
}

const tracker = new ChangeTracker({ nodeName: 'node1', machineAddresses: ['192.168.0.2', 'fd00:1::2'] });
const cfg = config({ clusterCIDRs: ['10.0.0.0/8', 'fd00:10::/64'], serviceClusterIPRange: ['172.30.0.0/16', 'fd00:30::/108'] });
const counts = Array.from({ length: SERVICES }, (_, i) => 2 + (i % 3));
const gens = Array.from({ length: SERVICES }, () => 0);
const upsert = (i: number) => {
  for (const o of objects(i, counts[i], gens[i])) {
    const err = tracker.upsert(o as never);
    if (err) throw new Error(JSON.stringify(err));
  }
};
for (let i = 0; i < SERVICES; i++) upsert(i);

const elements = writerName === 'nft' ? null : ElementWriter.open();
if (typeof elements === 'string') throw new Error(`no netlink writer: ${elements}`);
const dp = new NftablesDataplane(cfg, silentLogger(), new ProxyMetrics().registry, { elements });
const print = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

if (scenario === 'steps') {
  await dp.sync(tracker.snapshot(), true);
  print({ step: 0, ...dp.lastSync, listing: listing() });
  const r = prng(0x17);
  for (let step = 1; step <= 30; step++) {
    const i = r(SERVICES);
    gens[i] += 1 + r(7); // new endpoint addresses, same count: an element-only change
    if (step % 5 === 0) counts[i] = 1 + r(4); // a count change rewrites the service chain: nft
    upsert(i);
    await dp.sync(tracker.snapshot(), false);
    print({ step, ...dp.lastSync, listing: listing() });
  }
} else if (scenario === 'failure') {
  await dp.sync(tracker.snapshot(), true);
  const before = listing();
  // Someone deletes an element kproxy is about to delete: the kernel refuses the whole batch
  // (svc0: an IPv4 ClusterIP with 2 endpoints, so a new address pair is an element-only change).
  gens[0] += 3;
  upsert(0);
  const next = tracker.snapshot();
  execFileSync('nft', ['delete', 'element', 'ip', 'kproxy', 'service-endpoints-tcp', '{ 172.30.0.1 . 80 . 1 }']);
  const tampered = listing();
  let error = '';
  try {
    await dp.sync(next, false);
  } catch (e) {
    error = (e as Error).message;
  }
  const failed = { ...dp.lastSync };
  const afterFailure = listing();
  await dp.sync(tracker.snapshot(), false);
  const recovered = { ...dp.lastSync, listing: listing() };
  print({ before, tampered, error, failed, afterFailure, recovered });
}
dp.close();
