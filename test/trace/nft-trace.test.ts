// The tracer's semantics: exact probabilities, first-connection affinity, hook order, verdicts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Fraction } from '../../src/trace/fraction.js';
import { parseNft, traceNft, TraceError } from '../../src/trace/nft/index.js';
import { traceJSON, type Packet, type TraceResult } from '../../src/trace/result.js';
import { renderStory } from '../../src/trace/story.js';
import { SAMPLE_RULESET } from './sample-ruleset.js';

const NODE = ['192.168.0.2'];
const tcp = (src: string, dst: string, dport: number): Packet => ({ family: src.includes(':') ? 'IPv6' : 'IPv4', protocol: 'tcp', src, dst, dport, sport: 40000 });
const sample = parseNft(SAMPLE_RULESET);

function total(r: TraceResult): Fraction {
  return r.outcomes.reduce((s, o) => s.plus(o.probability), Fraction.ZERO);
}

describe('nft tracer', () => {
  it('explores every numgen branch with its exact probability, summing to 1', () => {
    const r = traceNft(sample, tcp('10.0.0.2', '172.30.0.41', 80), { localAddresses: NODE });
    assert.equal(r.outcomes.length, 3);
    for (const o of r.outcomes) assert.equal(o.probability.toString(), '1/3');
    assert.ok(total(r).equals(Fraction.ONE));
    const json = traceJSON(r);
    assert.equal(json.verdict, 'DNAT');
    assert.deepEqual(json.endpoints.map((e) => `${e.ip}:${e.port}`).sort(), ['10.180.0.1:80', '10.180.0.2:80', '10.180.1.1:80']);
    assert.equal(json.masquerade, false);
    assert.ok(json.path.some((p) => p.chain === 'service-ULMVA6XW-ns1/svc1/tcp/p80' && p.rule.startsWith('numgen random mod 3 vmap')));
  });

  it('multiplies nested random choices exactly (1/2, then 1/3 of the second half)', () => {
    const rs = parseNft(`add table ip t
add chain ip t pre { type nat hook prerouting priority dstnat ; }
add chain ip t a
add chain ip t b
add map ip t eps { typeof numgen random mod 1 : ip daddr . th dport ; }
add rule ip t pre ip daddr 10.96.0.1 numgen random mod 2 vmap { 0 : goto a, 1 : goto b }
add rule ip t a meta l4proto tcp dnat to 10.0.0.1:80
add rule ip t b meta l4proto tcp dnat to numgen random mod 3 offset 7 map @eps
add element ip t eps { 7 : 10.0.0.2 . 80, 8 : 10.0.0.3 . 80, 9 : 10.0.0.4 . 8080 }
`);
    const r = traceNft(rs, tcp('10.1.1.1', '10.96.0.1', 80), { localAddresses: [] });
    const json = traceJSON(r);
    const byEp = Object.fromEntries(json.endpoints.map((e) => [`${e.ip}:${e.port}`, e.probability]));
    assert.deepEqual(byEp, { '10.0.0.1:80': 0.5, '10.0.0.2:80': 1 / 6, '10.0.0.3:80': 1 / 6, '10.0.0.4:8080': 1 / 6 });
    assert.deepEqual(
      r.outcomes.map((o) => o.probability.toString()),
      ['1/2', '1/6', '1/6', '1/6'],
    );
    assert.ok(total(r).equals(Fraction.ONE));
  });

  it('does not split the walk on a random key that misses whatever it draws', () => {
    const rs = parseNft(`add table ip t
add chain ip t pre { type nat hook prerouting priority dstnat ; }
add chain ip t a
add chain ip t b
add map ip t by-ip { typeof ip daddr . numgen random mod 1 : verdict ; }
add map ip t by-port { typeof th dport . numgen random mod 1 : verdict ; }
add rule ip t pre ip daddr . numgen random mod 2 vmap @by-ip
add rule ip t pre th dport . numgen random mod 2 vmap @by-port
add rule ip t a meta l4proto tcp dnat to 10.0.0.1:80
add rule ip t b meta l4proto tcp dnat to 10.0.0.2:80
add element ip t by-ip { 10.96.0.1 . 0 : goto a, 10.96.0.1 . 1 : goto b }
add element ip t by-port { 30080 . 0 : goto a, 30080 . 1 : goto b }
`);
    const np = traceNft(rs, tcp('10.1.1.1', '192.168.0.2', 30080), { localAddresses: [] });
    assert.deepEqual(
      np.outcomes.map((o) => o.probability.toString()),
      ['1/2', '1/2'],
      'two branches, not four',
    );
    assert.match(renderStory(np), /no element in @by-ip for any draw/);
    const vip = traceNft(rs, tcp('10.1.1.1', '10.96.0.1', 80), { localAddresses: [] });
    assert.deepEqual(
      vip.outcomes.map((o) => o.endpoint!.ip),
      ['10.0.0.1', '10.0.0.2'],
    );
  });

  it('treats session-affinity lookups as misses and says it is a first connection', () => {
    // Even with an entry for this client in the text (a live listing), the first connection misses.
    const rs = parseNft(SAMPLE_RULESET + 'add element ip kube-proxy affinity-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 { 10.0.0.2 }\n');
    const r = traceNft(rs, tcp('10.0.0.2', '172.30.0.41', 80), { localAddresses: NODE });
    assert.equal(r.outcomes.length, 3, 'all three endpoints remain possible');
    assert.ok(
      r.notes.some((n) => /first connection/.test(n) && /affinity/.test(n)),
      r.notes.join('\n'),
    );
    const story = renderStory(r);
    assert.match(story, /lookup misses: first connection of this client \(no affinity entry yet\)/);
    assert.match(story, /remembers 10\.0\.0\.2 in @affinity-5OJB2KTY-ns1\/svc1\/tcp\/p80__10\.180\.0\.1\/80 for 10800s/);
  });

  it('says so when no rule touches the packet (NONE)', () => {
    const r = traceNft(sample, tcp('10.0.0.2', '8.8.8.8', 443), { localAddresses: NODE });
    const json = traceJSON(r);
    assert.equal(json.verdict, 'NONE');
    assert.deepEqual(json.endpoints, []);
    assert.equal(json.masquerade, false);
    assert.match(renderStory(r), /Verdict: NONE — no kproxy rule decided anything/);
    // A ruleset without any table for the family decides nothing either.
    const v6 = traceNft(sample, tcp('fd00::1', 'fd00::2', 80), { localAddresses: NODE });
    assert.equal(traceJSON(v6).verdict, 'NONE');
    assert.deepEqual(traceJSON(v6).path, []);
  });

  it('rejects ports a ClusterIP does not serve, drops unallocated service IPs, rejects services without endpoints', () => {
    assert.equal(traceJSON(traceNft(sample, tcp('10.0.0.2', '172.30.0.41', 81), { localAddresses: NODE })).verdict, 'REJECT');
    assert.equal(traceJSON(traceNft(sample, tcp('10.0.0.2', '172.30.7.7', 80), { localAddresses: NODE })).verdict, 'DROP');
    const r = traceNft(sample, tcp('10.0.0.2', '172.30.0.42', 80), { localAddresses: NODE });
    assert.equal(traceJSON(r).verdict, 'REJECT');
    assert.match(renderStory(r), /ns2\/svc2:p80/, 'the element comment names the service');
  });

  it('masquerades external NodePort traffic and hairpin traffic only on the hairpin branch', () => {
    const np = traceJSON(traceNft(sample, tcp('203.0.113.2', '192.168.0.2', 3001), { localAddresses: NODE }));
    assert.equal(np.verdict, 'DNAT');
    assert.equal(np.masquerade, true);
    const hairpin = traceNft(sample, tcp('10.180.0.1', '172.30.0.41', 80), { localAddresses: NODE });
    assert.deepEqual(
      hairpin.outcomes.map((o) => [o.endpoint!.ip, o.masquerade]),
      [
        ['10.180.0.1', true],
        ['10.180.0.2', false],
        ['10.180.1.1', false],
      ],
    );
  });

  it('walks the output path for a source on the node', () => {
    const r = traceNft(sample, tcp('192.168.0.2', '172.30.0.41', 80), { localAddresses: NODE });
    const chains = traceJSON(r).path.map((p) => p.chain);
    assert.ok(chains.includes('filter-output-pre-dnat') && chains.includes('nat-output') && chains.includes('filter-output'), chains.join(','));
    assert.ok(!chains.includes('nat-prerouting'));
    assert.equal(traceJSON(r).masquerade, true, 'not from a pod: masqueraded');
    // A NodePort without endpoints, from the node itself: rejected once the packet loops back in.
    const rs = parseNft(SAMPLE_RULESET + 'add element ip kube-proxy no-endpoint-nodeports { tcp . 3002 : goto reject-chain }\n');
    const back = traceNft(rs, tcp('192.168.0.2', '192.168.0.2', 3002), { localAddresses: NODE });
    assert.equal(traceJSON(back).verdict, 'REJECT');
    assert.ok(traceJSON(back).path.some((p) => p.chain === 'nodeport-endpoints-check'));
  });

  it('honours chain policies, priorities and marks', () => {
    const rs = parseNft(`add table inet f
add chain inet f late { type filter hook forward priority 10 ; policy drop ; }
add chain inet f early { type filter hook forward priority -10 ; }
add rule inet f early meta mark set 0x10
add rule inet f late mark and 0x10 == 0x10 accept
`);
    const ok = traceNft(rs, tcp('10.0.0.1', '10.0.0.2', 80), { localAddresses: [] });
    assert.equal(traceJSON(ok).verdict, 'ACCEPT', 'the early chain marks before the late one checks');
    const rs2 = parseNft(`add table inet f
add chain inet f late { type filter hook forward priority 10 ; policy drop ; }
`);
    const dropped = traceNft(rs2, tcp('10.0.0.1', '10.0.0.2', 80), { localAddresses: [] });
    assert.equal(traceJSON(dropped).verdict, 'DROP');
    assert.match(renderStory(dropped), /chain policy drop/);
  });

  it('traces IPv6 through an ip6 table', () => {
    const rs = parseNft(`add table ip6 k
add chain ip6 k pre { type nat hook prerouting priority dstnat ; }
add map ip6 k svc { type ipv6_addr . inet_proto . inet_service : verdict ; }
add chain ip6 k s
add rule ip6 k pre ip6 daddr . meta l4proto . th dport vmap @svc
add rule ip6 k s meta l4proto tcp dnat to [fd00:10::1:2]:8080
add element ip6 k svc { fd00:10:96::0a . tcp . 80 : goto s }
`);
    const json = traceJSON(traceNft(rs, tcp('2001:db8::9', 'fd00:10:96::a', 80), { localAddresses: [] }));
    assert.equal(json.verdict, 'DNAT');
    assert.deepEqual(json.endpoints, [{ ip: 'fd00:10::1:2', port: 8080, probability: 1 }]);
  });

  it('refuses to guess the input interface', () => {
    const rs = parseNft(`add table ip t
add chain ip t pre { type filter hook prerouting priority 0 ; }
add rule ip t pre iifname "veth*" drop
`);
    assert.throws(() => traceNft(rs, tcp('10.0.0.1', '10.0.0.2', 80), { localAddresses: [] }), TraceError);
    assert.equal(traceJSON(traceNft(rs, tcp('10.0.0.1', '10.0.0.2', 80), { localAddresses: [], inInterface: 'eth0' })).verdict, 'NONE');
    assert.equal(traceJSON(traceNft(rs, tcp('10.0.0.1', '10.0.0.2', 80), { localAddresses: [], inInterface: 'veth12ab' })).verdict, 'DROP', 'wildcard');
  });
});

describe('trace story', () => {
  it('gives a single endpoint its 100% (not "1%": only the decimals lose their trailing zeros)', () => {
    const r = traceNft(sample, tcp('10.0.0.2', '172.30.0.41', 80), { localAddresses: NODE });
    assert.match(renderStory(r), /probability 1\/3 \(33\.33%\)/);
    const one: TraceResult = { ...r, outcomes: [{ ...r.outcomes[0], probability: Fraction.ONE }] };
    assert.match(renderStory(one), /probability 1 \(100%\)/);
  });
});
