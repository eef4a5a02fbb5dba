// A lazy iptables parse keeps rule lines as text until a trace reaches their chain: it must
// give exactly the answer of a full parse, and still name the line of a bad rule it reaches.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptables, traceIptables } from '../../src/trace/iptables/index.js';
import { traceJSON } from '../../src/trace/result.js';
import { kproxyIptablesRuleset, mixPackets, NODE, tcp } from './kproxy-ruleset.js';

describe('iptables parser, lazily', () => {
  it('gives the same trace as a full parse for every Service of a kproxy ruleset', async () => {
    const text = await kproxyIptablesRuleset(120);
    const full = parseIptables(text);
    const lazy = parseIptables(text, { lazy: true });
    const packets = mixPackets(120);
    for (const p of packets) {
      const want = traceJSON(traceIptables(full, p, { localAddresses: [NODE] }));
      assert.deepEqual(traceJSON(traceIptables(lazy, p, { localAddresses: [NODE] })), want, `${p.src} → ${p.dst}:${p.dport}`);
    }
  });

  it('names the line of a bad rule a trace reaches; one it does not reach is found only by a full parse', () => {
    const text = '*nat\n:PREROUTING ACCEPT [0:0]\n:OTHER - [0:0]\n-A PREROUTING -d 10.0.0.1/32 -j DROP\n-A OTHER stray -d 10.0.0.2/32 -j DROP\n-I PREROUTING 2 -d 10.0.0.2/32 -j OTHER\nCOMMIT\n';
    const lazy = parseIptables(text, { lazy: true });
    assert.equal(traceJSON(traceIptables(lazy, tcp('1.1.1.1', '10.0.0.1', 80), { localAddresses: [] })).verdict, 'DROP');
    assert.throws(() => traceIptables(lazy, tcp('1.1.1.1', '10.0.0.2', 80), { localAddresses: [] }), /line 5: -A OTHER .*: unexpected "stray"/);
    assert.throws(() => parseIptables(text), /line 5: -A OTHER .*: unexpected "stray"/);
  });
});
