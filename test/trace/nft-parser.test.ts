// Malformed, unknown or unmodelled nft text is an error naming the line — never a wrong answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNft, NftSyntaxError } from '../../src/trace/nft/index.js';
import { elementCount } from '../../src/trace/nft/fast-elements.js';
import { SAMPLE_RULESET } from './sample-ruleset.js';

const HEAD = `add table ip t
add chain ip t pre { type nat hook prerouting priority dstnat ; }
add chain ip t svc
add map ip t m { type ipv4_addr . inet_proto . inet_service : verdict ; }
`;

function failsAt(text: string, line: number, reason: RegExp): void {
  assert.throws(
    () => parseNft(text),
    (e: unknown) => {
      assert.ok(e instanceof NftSyntaxError, `expected NftSyntaxError, got ${e}`);
      assert.equal(e.line, line, `line of: ${e.message}`);
      assert.match(e.message, reason);
      assert.match(e.message, new RegExp(`^line ${line}: `));
      return true;
    },
  );
}

describe('nft parser', () => {
  it('reads the upstream layout written as a transaction', () => {
    const rs = parseNft(SAMPLE_RULESET);
    const t = rs.tables.get('ip kube-proxy')!;
    assert.equal(t.comment, 'rules for kube-proxy');
    assert.equal(t.chains.get('nat-prerouting')!.base!.priority, -100);
    assert.equal(t.chains.get('filter-prerouting-pre-dnat')!.base!.priority, -110);
    assert.equal(t.chains.get('nat-postrouting')!.base!.priority, 100);
    assert.equal(elementCount(t.sets.get('service-ips')!), 1);
    assert.equal(t.sets.get('no-endpoint-services')!.exact.values().next().value!.comment, 'ns2/svc2:p80');
  });

  it('reads the block form that `nft list ruleset` prints', () => {
    const rs = parseNft(`table ip kproxy {
	comment "rules for kproxy"
	set cluster-ips {
		type ipv4_addr
		comment "Active ClusterIPs"
		elements = { 10.96.0.10, 10.96.0.11 }
	}
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 10.96.0.10 . tcp . 80 : goto svc,
			     10.96.0.11 . udp . 53 : drop }
	}
	set pods {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 172.16.0.0-172.16.0.255 }
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr . meta l4proto . th dport vmap @service-ips
	}
	chain svc {
		ip saddr != @pods meta mark set meta mark | 0x00004000 counter packets 0 bytes 0
		meta l4proto tcp dnat ip to 10.0.1.1:8080
	}
}
`);
    const t = rs.tables.get('ip kproxy')!;
    assert.equal(elementCount(t.sets.get('cluster-ips')!), 2);
    assert.equal(elementCount(t.sets.get('service-ips')!), 2);
    assert.equal(t.sets.get('pods')!.ranges.length, 2);
    assert.equal(t.chains.get('svc')!.rules.length, 2);
    assert.equal(t.chains.get('nat-prerouting')!.base!.hook, 'prerouting');
  });

  it('applies transactions in order: replace, flush chain, add and delete element', () => {
    const rs = parseNft(`${HEAD}add rule ip t svc drop
add element ip t m { 10.0.0.1 . tcp . 80 : goto svc, 10.0.0.2 . tcp . 80 : drop }
flush chain ip t svc
add rule ip t svc accept
delete element ip t m { 10.0.0.2 . tcp . 80 }
add table ip t
delete table ip t
add table ip t
add chain ip t c
`);
    const t = rs.tables.get('ip t')!;
    assert.deepEqual([...t.chains.keys()], ['c']);
    const rs2 = parseNft(`${HEAD}add rule ip t svc drop
add element ip t m { 10.0.0.1 . tcp . 80 : goto svc, 10.0.0.2 . tcp . 80 : drop }
flush chain ip t svc
add rule ip t svc accept
delete element ip t m { 10.0.0.2 . tcp . 80 }
`);
    const t2 = rs2.tables.get('ip t')!;
    assert.deepEqual(
      t2.chains.get('svc')!.rules.map((r) => r.text),
      ['accept'],
    );
    assert.equal(elementCount(t2.sets.get('m')!), 1);
  });

  it('names the line of an unknown command', () => failsAt(`${HEAD}\nfrobnicate table ip t\n`, 6, /unknown command "frobnicate"/));
  it('names the line of an unknown expression', () => failsAt(`${HEAD}add rule ip t svc ip dadr 1.2.3.4 drop\n`, 5, /"ip dadr" is not modelled/));
  it('names the line of an unknown statement', () => failsAt(`${HEAD}add rule ip t svc frob\n`, 5, /unknown expression or statement "frob"/));
  it('refuses statements it does not model', () => failsAt(`${HEAD}add rule ip t svc limit rate 10/second accept\n`, 5, /"limit" is not modelled/));
  it('refuses numgen inc (not random: cannot be explored)', () => failsAt(`${HEAD}add rule ip t svc numgen inc mod 2 vmap { 0 : drop, 1 : accept }\n`, 5, /numgen inc/));
  it('names the line of a bad element', () => failsAt(`${HEAD}add element ip t m { 10.0.0.1 . tcp . 80 : goto svc,\n 10.0.0.300 . tcp . 80 : drop }\n`, 6, /"10.0.0.300" is not a valid ipv4_addr/));
  it('names the line of an element with too few components', () => failsAt(`${HEAD}add element ip t m { 10.0.0.1 . tcp : drop }\n`, 5, /expected 3 components/));
  it('names the line of a jump to a chain that does not exist', () => failsAt(`${HEAD}add rule ip t svc jump nowhere\n`, 5, /jump to chain nowhere, which does not exist/));
  it('names the line of a verdict map element going nowhere', () => failsAt(`${HEAD}add element ip t m { 10.0.0.1 . tcp . 80 : goto nowhere }\n`, 5, /goto to chain nowhere/));
  it('names the line of a lookup in a set that does not exist', () => failsAt(`${HEAD}add rule ip t svc ip daddr @nope drop\n`, 5, /@nope does not exist/));
  it('names the line of a lookup with the wrong key type', () =>
    failsAt(`${HEAD}add rule ip t svc ip daddr vmap @m\n`, 5, /keyed by ipv4_addr . inet_proto . inet_service, but the rule looks up ipv4_addr/));
  it('names the line of a rule in a chain that does not exist', () => failsAt(`${HEAD}add rule ip t nochain drop\n`, 5, /chain nochain does not exist/));
  it('names the line of an unknown priority', () => failsAt(`add table ip t\nadd chain ip t c { type nat hook prerouting priority sideways ; }\n`, 2, /unknown priority name "sideways"/));
  it('names the line of an unterminated string', () => failsAt(`${HEAD}add rule ip t svc drop comment "oops\n`, 5, /unterminated string/));
  it('names the line of a missing brace', () => failsAt(`${HEAD}add element ip t m { 10.0.0.1 . tcp . 80 : drop\n`, 5, /missing "}"/));
  it('refuses to delete an element that is not there', () => failsAt(`${HEAD}delete element ip t m { 10.0.0.9 . tcp . 80 }\n`, 5, /is not in m/));
  it('refuses to change the value of an existing element with add', () =>
    failsAt(`${HEAD}add element ip t m { 10.0.0.1 . tcp . 80 : drop }\nadd element ip t m { 10.0.0.1 . tcp . 80 : accept }\n`, 6, /different value/));
  it('refuses commands on a table that does not exist', () => failsAt(`add chain ip nope c\n`, 1, /table ip nope does not exist/));
  it('refuses to delete a chain that still has rules', () => failsAt(`${HEAD}add rule ip t svc drop\ndelete chain ip t svc\n`, 6, /not empty/));
  it('reads priorities with offsets', () => {
    const rs = parseNft('add table ip t\nadd chain ip t c { type filter hook prerouting priority dstnat - 10 ; }\nadd chain ip t d { type filter hook output priority mangle+5 ; }\n');
    assert.equal(rs.tables.get('ip t')!.chains.get('c')!.base!.priority, -110);
    assert.equal(rs.tables.get('ip t')!.chains.get('d')!.base!.priority, -145);
  });
});

describe('nft parser, lazily', () => {
  const pkt = { family: 'IPv4' as const, protocol: 'tcp' as const, src: '10.1.1.1', dst: '10.0.0.1', dport: 80, sport: 1 };
  const text = `add table ip t
add chain ip t pre { type nat hook prerouting priority dstnat ; }
add chain ip t svc
add chain ip t unused
add map ip t m { type ipv4_addr . inet_proto . inet_service : verdict ; }
add rule ip t pre ip daddr . meta l4proto . th dport vmap @m
add rule ip t unused ip daddr 10.0.0.999 drop
add rule ip t svc meta l4proto tcp dnat to 10.9.9.9:8080
add element ip t m { 10.0.0.1 . tcp . 80 : goto svc, 10.0.0.2 . tcp . 80 : goto unused }
`;

  it('parses only what a trace reaches, and still names the line of what is wrong there', async () => {
    const { traceNft } = await import('../../src/trace/nft/index.js');
    const rs = parseNft(text, { lazy: true });
    const ok = traceNft(rs, pkt, { localAddresses: [] });
    assert.equal(ok.outcomes[0].endpoint?.ip, '10.9.9.9');
    assert.throws(() => traceNft(rs, { ...pkt, dst: '10.0.0.2' }, { localAddresses: [] }), /line 7: .*"10\.0\.0\.999" is not a valid ipv4_addr/);
    assert.throws(() => parseNft(text), /line 7: /, 'the default parses and checks everything');
  });

  it('gives the same answers for canonical and non-canonical element spellings', async () => {
    const { traceNft } = await import('../../src/trace/nft/index.js');
    const spelled = text.replace('10.0.0.999', '10.0.0.9').replace('10.0.0.1 . tcp . 80', '10.0.0.1 . 6 . 0x50');
    for (const t of [text.replace('10.0.0.999', '10.0.0.9'), spelled]) {
      const rs = parseNft(t, { lazy: true });
      assert.equal(traceNft(rs, pkt, { localAddresses: [] }).outcomes[0].endpoint?.ip, '10.9.9.9');
      assert.equal(traceNft(rs, { ...pkt, dport: 81 }, { localAddresses: [] }).outcomes[0].verdict, 'NONE');
    }
  });

  // Canonical element lists are searched as text on lookup (fast-elements.ts), not indexed.
  const lists = `add table ip t
add chain ip t pre { type nat hook prerouting priority dstnat ; }
add chain ip t a
add chain ip t b
add map ip t m { type ipv4_addr . inet_proto . inet_service : verdict ; }
add map ip t slots { typeof ip daddr . tcp dport . numgen random mod 1 : ip daddr . tcp dport ; }
add rule ip t pre ip daddr . meta l4proto . th dport vmap @m
add rule ip t a meta l4proto tcp dnat to ip daddr . tcp dport . numgen random mod 2 map @slots
add rule ip t b drop
add element ip t m { 10.0.0.10 . tcp . 80 : goto b, 10.0.0.1 . tcp . 80 : goto a,
  10.0.0.2 . tcp . 80 : goto b }
add element ip t slots { 10.0.0.1 . 80 . 0 : 10.0.0.2 . 80, 10.0.0.1 . 80 . 1 : 10.9.9.1 . 8080 }
add element ip t slots { 10.0.0.2 . 80 . 0 : 10.0.0.1 . 80 }
delete element ip t m { 10.0.0.2 . tcp . 80 }
`;
  const to = (dst: string) => ({ ...pkt, dst });

  it('finds canonical elements by their text: never inside a value or a longer address, deletes applied in order', async () => {
    const { traceNft, traceJSON } = await Promise.all([import('../../src/trace/nft/index.js'), import('../../src/trace/result.js')]).then(([a, b]) => ({ ...a, ...b }));
    const rs = parseNft(lists, { lazy: true });
    const j = traceJSON(traceNft(rs, to('10.0.0.1'), { localAddresses: [] }));
    assert.deepEqual(j.endpoints.map((e) => `${e.ip}:${e.port}`).sort(), ['10.0.0.2:80', '10.9.9.1:8080']);
    assert.equal(traceNft(rs, to('10.0.0.10'), { localAddresses: [] }).outcomes[0].verdict, 'DROP');
    assert.equal(traceNft(rs, to('10.0.0.2'), { localAddresses: [] }).outcomes[0].verdict, 'NONE', 'deleted by the last list');
    assert.equal(traceNft(rs, to('10.0.0.3'), { localAddresses: [] }).outcomes[0].verdict, 'NONE');
    assert.equal(traceNft(rs, to('0.0.0.1'), { localAddresses: [] }).outcomes[0].verdict, 'NONE', 'not the tail of 10.0.0.1');
    assert.equal(elementCount(rs.tables.get('ip t')!.sets.get('m')!), 2);
    assert.deepEqual(traceJSON(traceNft(parseNft(lists), to('10.0.0.1'), { localAddresses: [] })), j, 'the same answer when everything is parsed');
  });

  it('names the line when the lists a lookup searches disagree about its key', async () => {
    const { traceNft } = await import('../../src/trace/nft/index.js');
    const twice = `${lists}add element ip t m { 10.0.0.1 . tcp . 80 : goto b }\n`;
    assert.throws(() => traceNft(parseNft(twice, { lazy: true }), to('10.0.0.1'), { localAddresses: [] }), /line 1[56]: .*already exists in m with a different value/);
    assert.equal(traceNft(parseNft(twice, { lazy: true }), to('10.0.0.10'), { localAddresses: [] }).outcomes[0].verdict, 'DROP', 'lazily: an element the packet does not reach is not checked');
    assert.throws(() => parseNft(twice), /already exists in m with a different value/, 'the default (--check-all) checks every element');
    const gone = `${lists}delete element ip t m { 10.0.0.2 . tcp . 80 }\n`;
    assert.throws(() => traceNft(parseNft(gone, { lazy: true }), to('10.0.0.2'), { localAddresses: [] }), /is not in m/);
  });
});
