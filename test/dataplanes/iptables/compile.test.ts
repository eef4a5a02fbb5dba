// The iptables compiler without root: upstream's chain-name hashes (NOTES test vectors), rule
// shapes, probabilities, large-cluster mode, the NodePort dispatch per configuration, and what a
// partial render contains. Behaviour (where packets go) is checked by the conformance flows and
// the kernel suite; these pin down the text.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { compileFamily, compileStreamed, familyContext, portsOf, probability } from '../../../src/dataplanes/iptables/compile.js';
import { jumpRules } from '../../../src/dataplanes/iptables/jumps.js';
import { ChainNames, endpointChain, hash16, serviceChains } from '../../../src/dataplanes/iptables/naming.js';
import { renderFamily, renderFamilyCounted, topLevelRules, WHOLE_TABLE_CACHE_CHAINS } from '../../../src/dataplanes/iptables/restore.js';
import { countLines } from '../../../src/dataplanes/iptables/timeouts.js';
import { compileText } from '../../../src/dataplanes/iptables/text.js';
import { ChangeTracker } from '../../../src/model/tracker.js';

type Obj = Record<string, unknown>;
const config = (over: Partial<Config> = {}): Config => ({ ...defaultConfig(), mode: 'iptables', clusterCIDRs: ['10.0.0.0/8'], ...over });
const svc = (name: string, spec: Obj): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'ns1', name }, spec });
const slice = (name: string, ips: string[], port = 80): Obj => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { namespace: 'ns1', name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4',
  endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'node1', conditions: { ready: true } })),
  ports: [{ name: 'p80', port, protocol: 'TCP' }],
});
const http = { ports: [{ name: 'p80', port: 80, protocol: 'TCP' }] };
function stateOf(objects: Obj[]) {
  const tracker = new ChangeTracker({ nodeName: 'node1', machineAddresses: ['192.168.0.2'] });
  for (const o of objects) assert.equal(tracker.upsert(o as never), null);
  return { tracker, state: tracker.snapshot() };
}

describe('iptables chain names', () => {
  it("reproduce upstream's hashes (conformance NOTES vectors)", () => {
    assert.equal(hash16('ns1/svc1:p80tcp'), 'XPGD46QRK7WJZT7O');
    assert.equal(hash16('ns1/svc1:p80tcp10.180.0.1:80'), 'SXIVWICOYRO3J4NJ');
    assert.equal(hash16('ns2/svc2:p80tcp'), 'GNZBNJ2PO5MGZ6GT');
    assert.equal(hash16('ns1/svc1tcp'), 'AQI2S6QIMU7PVVRP');
    assert.equal(hash16('ns1/svc1tcp10.0.1.1:80'), '3JOIVZTXZZRGORX4');
    assert.equal(hash16('ns1/svc1:p80tcp[ff06::c1]:80'), 'LIGRYQQLSZN4UWQ5');
    assert.equal(hash16('kube-system/kube-dns:dnsudp'), 'TCOU7JCQXEZGVUNU');
    const sp = { servicePortName: 'ns1/svc1:p80', protocol: 'TCP' as const };
    assert.deepEqual(serviceChains(sp), { svc: 'KUBE-SVC-XPGD46QRK7WJZT7O', svl: 'KUBE-SVL-XPGD46QRK7WJZT7O', ext: 'KUBE-EXT-XPGD46QRK7WJZT7O', fw: 'KUBE-FW-XPGD46QRK7WJZT7O' });
    assert.equal(endpointChain(sp, { endpoint: '10.180.0.1:80' }), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
  });
});

describe('iptables compiler', () => {
  it('writes the statistic cascade, hairpin masquerade and DNAT as kube-proxy does', () => {
    const { state } = stateOf([svc('svc1', { clusterIP: '172.30.0.41', ...http }), slice('svc1', ['10.180.0.1', '10.180.0.2', '10.180.0.3'])]);
    const text = renderFamily(compileFamily(state, config(), 'IPv4'));
    const svcRules = text.split('\n').filter((l) => l.startsWith('-A KUBE-SVC-XPGD46QRK7WJZT7O'));
    assert.deepEqual(svcRules, [
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-SXIVWICOYRO3J4NJ',
      `-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.2:80" -m statistic --mode random --probability 0.5000000000 -j ${endpointChain({ servicePortName: 'ns1/svc1:p80', protocol: 'TCP' }, { endpoint: '10.180.0.2:80' })}`,
      `-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.3:80" -j ${endpointChain({ servicePortName: 'ns1/svc1:p80', protocol: 'TCP' }, { endpoint: '10.180.0.3:80' })}`,
    ]);
    assert.ok(text.includes('-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ\n'));
    assert.ok(text.includes('-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80\n'));
    assert.ok(text.includes('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O\n'));
    assert.equal(probability(3), '0.3333333333');
    assert.equal(probability(7), '0.1428571429');
  });

  it('REJECTs a Service without endpoints in filter and writes no nat chain for it', () => {
    const { state } = stateOf([svc('svc1', { clusterIP: '172.30.0.41', ...http })]);
    const text = renderFamily(compileFamily(state, config(), 'IPv4'));
    assert.ok(text.includes('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.41 --dport 80 -j REJECT\n'));
    assert.doesNotMatch(text, /KUBE-SVC-/);
  });

  it('drops per-endpoint comments above 1,000 endpoints (large cluster mode)', () => {
    const objs: Obj[] = [];
    for (let i = 0; i < 101; i++) {
      objs.push(svc(`s${i}`, { clusterIP: `172.30.1.${i}`, ...http }));
      objs.push(
        slice(
          `s${i}`,
          Array.from({ length: 10 }, (_, j) => `10.1.${i}.${j + 1}`),
        ),
      );
    }
    const rs = compileFamily(stateOf(objs).state, config(), 'IPv4');
    assert.equal(rs.fc.largeClusterMode, true);
    const text = renderFamily(rs);
    assert.doesNotMatch(text, /^-A KUBE-SEP-.*--comment/m);
    assert.doesNotMatch(text, /^-A KUBE-SVC-.* -> /m);
    assert.match(text, /^-A KUBE-SERVICES -m comment --comment "ns1\/s0:p80 cluster IP"/m);
  });

  it('dispatches NodePorts per localhostNodePorts and nodePortAddresses, IPv4 and IPv6', () => {
    const { state } = stateOf([]);
    const last = (cfg: Config, f: 'IPv4' | 'IPv6') =>
      renderFamily(compileFamily(state, cfg, f))
        .split('\n')
        .filter((l) => l.includes('-j KUBE-NODEPORTS'));
    assert.match(last(config(), 'IPv4')[0], /-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS$/);
    assert.match(last(config({ localhostNodePorts: false }), 'IPv4')[0], /--dst-type LOCAL ! -d 127\.0\.0\.0\/8 -j KUBE-NODEPORTS$/);
    assert.match(last(config(), 'IPv6')[0], /--dst-type LOCAL ! -d ::1\/128 -j KUBE-NODEPORTS$/);
    assert.deepEqual(
      last(config({ nodePortAddresses: ['192.168.0.0/24', '127.0.0.1/32'], localhostNodePorts: false }), 'IPv4').map((l) => l.split(' -d ')[1]),
      ['192.168.0.2 -j KUBE-NODEPORTS'],
    );
    assert.equal(last(config({ nodePortAddresses: ['192.168.0.0/24', '127.0.0.1/32'] }), 'IPv4').length, 2);
    // KUBE-FIREWALL (CVE-2020-8558 guard) only for IPv4 with localhost NodePorts on.
    assert.match(renderFamily(compileFamily(state, config(), 'IPv4')), /^-A KUBE-FIREWALL .*-d 127\.0\.0\.0\/8 ! -s 127\.0\.0\.0\/8/m);
    assert.doesNotMatch(renderFamily(compileFamily(state, config({ localhostNodePorts: false }), 'IPv4')), /KUBE-FIREWALL/);
  });

  it("a partial render declares only the written ports' chains and deletes the given ones", () => {
    const { state } = stateOf([svc('a', { clusterIP: '172.30.0.1', ...http }), slice('a', ['10.1.0.1']), svc('b', { clusterIP: '172.30.0.2', ...http }), slice('b', ['10.1.0.2'])]);
    const rs = compileFamily(state, config(), 'IPv4');
    const text = renderFamily(rs, { write: (p) => p.key.startsWith('ns1/a:'), deleteChains: ['KUBE-SEP-AAAAAAAAAAAAAAAA'] });
    const declared = text.split('\n').filter((l) => /^:KUBE-(SVC|SEP)-/.test(l));
    assert.equal(declared.length, 3, declared.join(' ')); // a's SVC and SEP, the deleted one
    assert.match(text, /^-X KUBE-SEP-AAAAAAAAAAAAAAAA$/m);
    // Top-level chains always carry every Service.
    assert.match(text, /-d 172\.30\.0\.2 --dport 80 -j KUBE-SVC-/);
    assert.doesNotMatch(text, /^-I /m, 'no jump rules in a partial sync');
  });

  it('a partial render leaves out top-level chains (and tables) whose rules did not change', () => {
    const before = stateOf([svc('a', { clusterIP: '172.30.0.1', ...http }), slice('a', ['10.1.0.1']), svc('b', { clusterIP: '172.30.0.2', ...http }), slice('b', ['10.1.0.2'])]);
    const old = compileFamily(before.state, config(), 'IPv4');
    const previousTop = new Map([...topLevelRules(old)].map(([k, r]) => [k, r.join('\n')]));
    // An EndpointSlice change: only a's own chains are written, no top-level chain, no filter table.
    before.tracker.upsert(slice('a', ['10.1.0.3']) as never);
    const moved = compileFamily(before.tracker.snapshot(), config(), 'IPv4');
    const text = renderFamily(moved, { write: (p) => p.key.startsWith('ns1/a:'), previousTop });
    assert.doesNotMatch(text, /^\*filter$/m);
    assert.doesNotMatch(text, /^:KUBE-SERVICES /m);
    assert.match(text, /^-A KUBE-SEP-\S+ .*--to-destination 10\.1\.0\.3:80$/m);
    // Nothing changed at all: nothing to hand over.
    assert.equal(renderFamily(old, { write: () => false, previousTop }), '');
    // b loses its endpoints: nat KUBE-SERVICES loses b's rule, filter gains its REJECT.
    before.tracker.upsert(slice('b', []) as never);
    const gone = renderFamily(compileFamily(before.tracker.snapshot(), config(), 'IPv4'), { write: (p) => p.key.startsWith('ns1/b:'), previousTop });
    assert.match(gone, /^:KUBE-SERVICES - \[0:0\]$/m);
    assert.match(gone, /^-A KUBE-SERVICES .*ns1\/b:p80 has no endpoints.* -j REJECT$/m);
    assert.doesNotMatch(gone, /^:KUBE-NODEPORTS /m);
  });

  it('orders nat KUBE-SERVICES by jump target, descending, with the NodePort dispatch last', () => {
    const objs: Obj[] = [];
    for (let i = 0; i < 20; i++) objs.push(svc(`s${i}`, { clusterIP: `172.30.2.${i}`, ...http }), slice(`s${i}`, [`10.2.0.${i + 1}`]));
    const nat = topLevelRules(compileFamily(stateOf(objs).state, config(), 'IPv4')).get('nat/KUBE-SERVICES')!;
    const targets = nat.slice(0, -1).map((r) => r.split(' -j ')[1]);
    assert.equal(targets.length, 20);
    assert.deepEqual(targets, [...targets].sort().reverse());
    assert.match(nat.at(-1)!, /-j KUBE-NODEPORTS$/);
  });

  it('starts the nat table with -S (whole-table cache for iptables-nft) above the chain threshold', () => {
    const objs: Obj[] = [];
    const n = Math.ceil(WHOLE_TABLE_CACHE_CHAINS / 2) + 1; // a SVC and a SEP chain each
    for (let i = 0; i < n; i++) objs.push(svc(`s${i}`, { clusterIP: `172.30.${i >> 8}.${i & 255}`, ...http }), slice(`s${i}`, [`10.3.${i >> 8}.${i & 255}`]));
    const rs = compileFamily(stateOf(objs).state, config(), 'IPv4');
    const nat = compileText(stateOf(objs).state, config()).split('*nat')[1].split('\n');
    const at = nat.indexOf('-S');
    assert.ok(at > 0, 'a -S line in nat');
    assert.ok(
      nat.slice(0, at).some((l) => l.startsWith('-I PREROUTING')),
      'jump rules come before it',
    );
    assert.ok(!nat.slice(0, at).some((l) => /^:KUBE-(SVC|SEP)-/.test(l)), 'no per-service chain before it');
    assert.doesNotMatch(renderFamily(rs, { write: (p) => p.key === rs.ports[0].key, wholeTableCache: true }), /^-S$/m, 'not in a small partial sync');
    assert.doesNotMatch(renderFamily(rs), /^-S$/m, 'not on iptables-legacy');
  });

  it('kproxy rules text: a header per family, jump rules and canaries of a first sync', () => {
    const text = compileText(stateOf([]).state, config());
    assert.match(text, /^# IPv4: iptables-restore --noflush\n\*mangle\n:KUBE-PROXY-CANARY - \[0:0\]\nCOMMIT\n/);
    assert.match(text, /^# IPv6: ip6tables-restore --noflush$/m);
    assert.match(text, /^-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m);
    assert.doesNotMatch(text, /^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) /m, 'built-in chains are never declared (that would flush them)');
  });
});

describe('iptables full-sync compile (rules written straight into the text)', () => {
  // Every rule shape: NodePort with localhost copy, LB IPs with source ranges, externalIPs,
  // ClientIP affinity, Local traffic policy, a Service without endpoints, IPv6.
  const objects = (): Obj[] => [
    svc('np', { type: 'NodePort', clusterIP: '172.30.0.1', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30080 }], externalIPs: ['192.168.0.50'], sessionAffinity: 'ClientIP' }),
    slice('np', ['10.1.0.1', '10.1.0.2', '10.1.0.3']),
    {
      ...svc('lb', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.2',
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30081 }],
        externalTrafficPolicy: 'Local',
        loadBalancerSourceRanges: ['1.2.3.0/24'],
      }),
      status: { loadBalancer: { ingress: [{ ip: '192.168.0.60' }] } },
    },
    slice('lb', ['10.1.0.4', '10.1.0.5']),
    svc('empty', { clusterIP: '172.30.0.3', ...http }),
    svc('v6', { clusterIP: 'fd00::3', ipFamilies: ['IPv6'], ...http }),
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: 'ns1', name: 'v6-1', labels: { 'kubernetes.io/service-name': 'v6' } },
      addressType: 'IPv6',
      endpoints: [{ addresses: ['fd01::1'], nodeName: 'node1', conditions: { ready: true } }],
      ports: [{ name: 'p80', port: 80, protocol: 'TCP' }],
    },
  ];

  it('renders byte for byte what rendering the kept rules gives, with the same counts', () => {
    const { state } = stateOf(objects());
    for (const family of ['IPv4', 'IPv6'] as const) {
      for (const cfg of [config(), config({ localhostNodePorts: false, masqueradeAll: true })]) {
        const kept = compileFamily(state, cfg, family);
        const streamed = compileStreamed(portsOf(state, family), familyContext(family, cfg, state));
        const opts = { jumps: jumpRules({ kubeletFirewall: kept.fc.kubeletFirewall }), canary: true };
        const expected = renderFamily(kept, opts);
        const got = renderFamilyCounted(streamed, opts);
        assert.equal(got.text, expected, `${family}`);
        assert.ok(expected.includes('-A KUBE-SEP-'), 'the fixture has endpoint chains');
        if (family === 'IPv4') for (const shape of ['-A KUBE-FW-', '-A KUBE-SVL-', '-A KUBE-EXT-', '-m recent', '-j REJECT']) assert.ok(expected.includes(shape), shape);
        assert.equal(got.lines, countLines(expected));
        const nat = expected.split('*nat')[1] ?? '';
        assert.equal(got.natRules, (nat.match(/^-A /gm) ?? []).length);
        assert.equal(
          streamed.ports.reduce((n, p) => n + p.ruleCount, 0),
          kept.ports.reduce((n, p) => n + p.rules.length, 0),
        );
        assert.ok(
          streamed.ports.every((p) => p.rules.length === 0),
          'a streamed port keeps no rules',
        );
      }
    }
  });

  it("the applier's compile, through its chain-name cache, gives the same text as hashing afresh, on its first and later full syncs", () => {
    const { state } = stateOf(objects());
    const names = new ChainNames();
    for (let sync = 0; sync < 2; sync++) {
      names.startFull();
      for (const family of ['IPv4', 'IPv6'] as const) {
        const opts = { jumps: jumpRules({ kubeletFirewall: family === 'IPv4' }), canary: true };
        const afresh = renderFamily(compileStreamed(portsOf(state, family), familyContext(family, config(), state)), opts);
        const cachedFc = familyContext(family, config(), state, undefined, names);
        assert.equal(cachedFc.names, names);
        assert.equal(renderFamily(compileStreamed(portsOf(state, family), cachedFc), opts), afresh, `${family}, sync ${sync + 1}`);
      }
      names.endFull();
    }
  });

  it('kproxy rules prints the applier-shaped text (streamed) for each family', () => {
    const { state } = stateOf(objects());
    const text = compileText(state, config());
    const v4 = renderFamily(compileFamily(state, config(), 'IPv4'), { jumps: jumpRules({ kubeletFirewall: true }), canary: true, wholeTableCache: true });
    assert.ok(text.includes(`# IPv4: iptables-restore --noflush\n${v4}# IPv6`));
  });

  it('the chain-name cache gives the hashed names and forgets what a full sync did not ask for', () => {
    const names = new ChainNames();
    const a = { servicePortName: 'ns1/svc1:p80', protocol: 'TCP' as const };
    const b = { servicePortName: 'ns2/svc2:p80', protocol: 'TCP' as const };
    names.startFull();
    assert.deepEqual(names.port(a).chains, serviceChains(a));
    assert.equal(names.port(a).endpoint({ endpoint: '10.180.0.1:80' }), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
    assert.equal(names.port(b).endpoint({ endpoint: '10.0.0.9:80' }), endpointChain(b, { endpoint: '10.0.0.9:80' }));
    names.endFull();
    const first = names.port(a);
    names.startFull();
    const again = names.port(a); // a new generation's entry, names taken over
    assert.equal(again.endpoint({ endpoint: '10.180.0.1:80' }), 'KUBE-SEP-SXIVWICOYRO3J4NJ');
    assert.equal(again.chains, first.chains, 'taken over, not hashed again');
    names.endFull();
    const live = (names as unknown as { live: Map<string, { endpoints: Map<string, string> }> }).live;
    assert.deepEqual([...live.keys()], ['ns1/svc1:p80 TCP'], 'b was not asked for: forgotten');
    assert.deepEqual([...live.get('ns1/svc1:p80 TCP')!.endpoints.keys()], ['10.180.0.1:80']);
  });
});
