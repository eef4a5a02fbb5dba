// A lazy parse steps over runs of plain `add rule` / `add chain` lines (rule-runs.ts,
// chain-runs.ts) and searches them when a trace reaches a chain. It must give exactly the
// answer of a full parse, for kproxy's own rulesets and for transactions whose order matters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNft, traceNft, NftSyntaxError } from '../../src/trace/nft/index.js';
import { ChainMap } from '../../src/trace/nft/chain-runs.js';
import { traceJSON, type Packet } from '../../src/trace/result.js';
import { kproxyRuleset, mixPackets, NODE, ip, tcp } from './kproxy-ruleset.js';

function same(text: string, packets: Packet[], locals = [NODE]): void {
  const full = parseNft(text);
  const lazy = parseNft(text, { lazy: true });
  for (const p of packets) {
    const want = traceJSON(traceNft(full, p, { localAddresses: locals }));
    assert.deepEqual(traceJSON(traceNft(lazy, p, { localAddresses: locals })), want, `${p.src} → ${p.dst}:${p.dport}/${p.protocol}`);
  }
}

describe('nft parser, lazily, with runs of plain lines', () => {
  it('gives the same trace as a full parse for every Service of a kproxy ruleset, from outside and from the node', () => {
    const SERVICES = 300;
    const text = kproxyRuleset(SERVICES);
    const lazy = parseNft(text, { lazy: true });
    const table = lazy.tables.get('ip kproxy')!;
    // The runs were used (not a start-over without them), and the trace below reads only part of them.
    assert.ok(table.runs && table.runs.list.length > 0, 'rule runs');
    assert.ok(table.chains instanceof ChainMap, 'chain runs');
    const packets = [...mixPackets(SERVICES), tcp('10.200.0.9', '8.8.8.8', 53, 'udp')];
    same(text, packets);
  });

  it('reads only the chains a trace reaches when the rules are plain (NodePort Services)', () => {
    // Rules with braces or strings (affinity, comments) are parsed one by one, and after 64
    // chains asked for that way the chain runs are read whole; NodePort Services have none.
    const text = kproxyRuleset(300, false);
    same(text, [tcp('10.200.0.9', ip(172, 0x100000 + 299), 80), tcp('10.200.0.9', NODE, 30007)]);
    const one = parseNft(text, { lazy: true });
    traceNft(one, tcp('10.200.0.9', ip(172, 0x100000 + 299), 80), { localAddresses: [NODE] });
    const made = [...(one.tables.get('ip kproxy')!.chains as ChainMap).made()].length;
    assert.ok(made < 40, `${made} chains made by one trace`);
  });

  const HEAD = `add table ip t
add chain ip t pre { type nat hook prerouting priority dstnat ; }
add chain ip t a
add chain ip t b
`;
  const to = (dst: string) => tcp('10.1.1.1', dst, 80);

  it('keeps the order of rules split over runs, inserts and block-form rules', () => {
    const text = `${HEAD}add rule ip t pre ip daddr 10.0.0.1 jump a
add rule ip t a ip saddr 10.1.1.2 drop
add rule ip t pre ip daddr 10.0.0.2 goto b
add table ip t { chain a { ip saddr 10.1.1.2 accept ; ip saddr 10.1.1.3 drop ; } }
add rule ip t a meta l4proto tcp dnat to 10.9.9.1:80
insert rule ip t a ip saddr 10.1.1.1 accept comment "first"
add rule ip t b meta l4proto tcp dnat to 10.9.9.2:80
`;
    same(text, [to('10.0.0.1'), to('10.0.0.2'), to('10.0.0.3'), tcp('10.1.1.3', '10.0.0.1', 80), tcp('10.1.1.2', '10.0.0.1', 80)]);
    assert.equal(traceJSON(traceNft(parseNft(text, { lazy: true }), tcp('10.1.1.2', '10.0.0.1', 80), { localAddresses: [] })).verdict, 'DROP', 'the run line before the block');
    assert.equal(traceJSON(traceNft(parseNft(text, { lazy: true }), to('10.0.0.1'), { localAddresses: [] })).verdict, 'ACCEPT', 'the inserted rule runs first');
  });

  it('starts over without runs when a later command takes rules away (flush chain, delete chain, flush table)', () => {
    const body = `${HEAD}add rule ip t pre ip daddr 10.0.0.1 jump a
add rule ip t a drop
add rule ip t b drop
`;
    for (const tail of ['flush chain ip t a\nadd rule ip t a accept\n', 'flush chain ip t b\ndelete chain ip t b\n', 'flush table ip t\nadd rule ip t pre accept\n']) {
      const text = body + tail;
      same(text, [to('10.0.0.1'), to('10.0.0.2')]);
      assert.equal(parseNft(text, { lazy: true }).tables.get('ip t')!.runs, undefined, tail);
    }
  });

  it('forgets the runs of a table deleted and made again, as nft does', () => {
    const text = `${HEAD}add rule ip t pre ip daddr 10.0.0.1 drop
delete table ip t
${HEAD}add rule ip t pre ip daddr 10.0.0.2 drop
`;
    same(text, [to('10.0.0.1'), to('10.0.0.2')]);
    assert.equal(traceJSON(traceNft(parseNft(text, { lazy: true }), to('10.0.0.1'), { localAddresses: [] })).verdict, 'NONE');
  });

  it('notes sets that an unreached rule fills from packets (affinity) and still misses on them', () => {
    const text = `${HEAD}add set ip t aff { type ipv4_addr ; flags timeout ; timeout 3h ; }
add rule ip t pre ip daddr 10.0.0.1 goto a
add rule ip t a ip saddr @aff drop
add rule ip t a meta l4proto tcp dnat to 10.9.9.1:80
add rule ip t b update @aff { ip saddr timeout 3h }
add element ip t aff { 10.1.1.1 }
`;
    same(text, [to('10.0.0.1')]);
    assert.equal(traceJSON(traceNft(parseNft(text, { lazy: true }), to('10.0.0.1'), { localAddresses: [] })).verdict, 'DNAT');
  });

  it('names the line of a rule written before its chain existed, or of a verdict naming no chain, when a trace reaches it', () => {
    const early = `add table ip t
add chain ip t pre { type nat hook prerouting priority dstnat ; }
add rule ip t pre ip daddr 10.0.0.1 goto late
add rule ip t late drop
add chain ip t late
`;
    assert.throws(() => parseNft(early), /line 4: chain late does not exist/);
    assert.throws(() => traceNft(parseNft(early, { lazy: true }), to('10.0.0.1'), { localAddresses: [] }), /line 4: chain late does not exist/);
    const verdict = `${HEAD}add map ip t m { type ipv4_addr . inet_proto . inet_service : verdict ; }
add rule ip t pre ip daddr . meta l4proto . th dport vmap @m
add element ip t m { 10.0.0.1 . tcp . 80 : goto a, 10.0.0.2 . tcp . 80 : goto nowhere }
`;
    assert.throws(
      () => parseNft(verdict),
      (e: unknown) => e instanceof NftSyntaxError && /nowhere/.test(e.message) && e.line === 7,
    );
    const lazy = parseNft(verdict, { lazy: true });
    assert.equal(traceJSON(traceNft(lazy, to('10.0.0.1'), { localAddresses: [] })).verdict, 'NONE');
    assert.throws(
      () => traceNft(lazy, to('10.0.0.2'), { localAddresses: [] }),
      (e: unknown) => e instanceof NftSyntaxError && /nowhere/.test(e.message) && e.line === 7,
    );
  });

  it('reports a bad rule in a chain no trace reaches only when everything is checked (--check-all)', () => {
    const text = `${HEAD}add rule ip t pre ip daddr 10.0.0.1 goto a
add rule ip t a drop
add rule ip t b ip daddr 10.0.0.999 drop
add rule ip t nosuchchain drop
`;
    assert.throws(() => parseNft(text), /line 8: chain nosuchchain does not exist/);
    assert.throws(() => parseNft(text.replace(/^add rule ip t nosuchchain.*\n/m, '')), /line 7: .*"10\.0\.0\.999" is not a valid ipv4_addr/);
    assert.equal(traceJSON(traceNft(parseNft(text, { lazy: true }), to('10.0.0.1'), { localAddresses: [] })).verdict, 'DROP');
  });
});
