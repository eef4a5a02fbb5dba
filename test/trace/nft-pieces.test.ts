// `kproxy trace --ruleset` reads the file in pieces that end at line ends (read-text.ts
// readRulesetPieces), and a lazy nft parse reads the pieces one after the other (parser.ts),
// falling back to the joined text when a statement runs on from one piece into the next.
// Wherever the text is cut, the answer — trace, error and its line — must be the whole text's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNft, traceNft } from '../../src/trace/nft/index.js';
import { readRulesetPieces } from '../../src/trace/read-text.js';
import { traceJSON, type Packet } from '../../src/trace/result.js';
import { kproxyRuleset, mixPackets, NODE, tcp } from './kproxy-ruleset.js';

/** Each packet's trace as JSON text, or the error it (or the parse) ends with. */
function outcome(text: string | readonly string[], packets: readonly Packet[], locals: string[], checkAll = false): string[] {
  let rs;
  try {
    rs = parseNft(text, { lazy: !checkAll });
  } catch (e) {
    return [`parse: ${(e as Error).message}`];
  }
  return packets.map((p) => {
    try {
      return JSON.stringify(traceJSON(traceNft(rs, p, { localAddresses: locals })));
    } catch (e) {
      return `trace: ${(e as Error).message}`;
    }
  });
}

/** The text cut after every line. */
const byLines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

function withFile<T>(text: string, fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-pieces-'));
  try {
    const file = join(dir, 'ruleset.nft');
    writeFileSync(file, text);
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ruleset text in pieces', () => {
  it('reads the whole text, cut only before an `add` line that no backslash continues into', () => {
    const kproxy = kproxyRuleset(120);
    withFile(kproxy, (file) => {
      // Its longest line (an element list) is ~7 kB.
      const pieces = readRulesetPieces(file, 12_000);
      assert.ok(pieces.length > 10, `${pieces.length} pieces`);
      assert.equal(pieces.join(''), readFileSync(file, 'utf8'));
      for (const [i, p] of pieces.entries()) {
        assert.ok(p.length <= 12_000, `piece ${i} fits the buffer`);
        if (i > 0) assert.ok(p.startsWith('add '), `piece ${i} starts a command`);
        if (i < pieces.length - 1) assert.ok(p.endsWith('\n') && !p.endsWith('\\\n'), `piece ${i} ends a line`);
      }
      assert.deepEqual(readRulesetPieces(file), [kproxy], 'one piece when the buffer holds it all');
    });
    const continued = 'add table ip t\n' + 'add rule ip t c ip daddr 10.0.0.1 \\\nadd rule ip t c drop\n'.repeat(40);
    withFile(continued, (file) => {
      const pieces = readRulesetPieces(file, 256);
      assert.ok(pieces.length > 5);
      assert.equal(pieces.join(''), continued);
      for (const p of pieces.slice(1)) assert.ok(p.startsWith('add rule ip t c ip daddr'), 'never cut after a backslash');
    });
    // Not ASCII, no place to cut (an iptables-save text), empty, no newline at the end.
    const others = ['add table ip t { comment "café → ü" ; }\n'.repeat(200), '*nat\n' + '-A KUBE-SERVICES -j ACCEPT\n'.repeat(500) + 'COMMIT\n', '', 'add table ip t\nadd chain ip t c'];
    for (const text of others) {
      withFile(text, (file) => {
        const pieces = readRulesetPieces(file, 256);
        assert.equal(pieces.join(''), text);
        if (text.length > 256 && !text.startsWith('add table ip t\nadd chain')) assert.equal(pieces.length, 1, 'read whole');
      });
    }
  });

  it('a lazy parse of pieces traces a kproxy ruleset exactly as a full parse, and reads the pieces in turn', () => {
    const SERVICES = 300;
    const text = kproxyRuleset(SERVICES);
    const packets = mixPackets(SERVICES);
    const want = outcome(text, packets, [NODE], true);
    assert.ok(
      want.every((o) => o.startsWith('{')),
      'every packet traces',
    );
    withFile(text, (file) => {
      const pieces = readRulesetPieces(file, 40_000);
      assert.ok(pieces.length > 6, `${pieces.length} pieces`);
      const rs = parseNft(pieces, { lazy: true });
      // Parsed piece by piece (not joined): the runs point into different pieces.
      const runs = rs.tables.get('ip kproxy')!.runs!;
      assert.ok(new Set(runs.list.map((r) => r.src)).size > 3, 'runs from several pieces');
      assert.deepEqual(outcome(pieces, packets, [NODE]), want);
    });
    const some = packets.filter((_, i) => i % 9 === 0);
    assert.deepEqual(
      outcome(byLines(text), some, [NODE]),
      want.filter((_, i) => i % 9 === 0),
      'one piece per line',
    );
  });

  it('gives the whole text’s answer or error, with its line, wherever small transactions are cut', () => {
    const head = `add table ip t
add chain ip t pre { type nat hook prerouting priority dstnat ; }
add chain ip t a
add chain ip t b
`;
    const texts = [
      // A multi-line table block, an insert, a backslash continuing into an `add` line and into another line.
      `${head}add rule ip t pre ip daddr 10.0.0.1 jump a
add rule ip t a ip saddr 10.1.1.2 drop
table ip t {
  chain a {
    ip saddr 10.1.1.2 accept
    ip saddr 10.1.1.3 drop
  }
}
add rule ip t pre ip daddr 10.0.0.2 goto b
insert rule ip t a ip saddr 10.1.1.1 accept comment "first"
add rule ip t b ip saddr 10.1.1.4 \\
add rule ip t b drop
add rule ip t b meta l4proto tcp \\
  dnat to 10.9.9.2:80
`,
      // A multi-line element list; a flush after runs (the parse starts over without runs).
      `${head}add map ip t m { type ipv4_addr . inet_proto . inet_service : verdict ; }
add rule ip t pre ip daddr . meta l4proto . th dport vmap @m
add element ip t m {
  10.0.0.1 . tcp . 80 : goto a,
  10.0.0.2 . tcp . 80 : goto b
}
add rule ip t a drop
add rule ip t b accept
flush chain ip t b
add rule ip t b meta l4proto tcp dnat to 10.9.9.3:80
`,
      // A table deleted and made again; errors on the path, late in the text.
      `${head}add rule ip t pre ip daddr 10.0.0.1 drop
delete table ip t
${head}add rule ip t pre ip daddr 10.0.0.2 goto a
add rule ip t pre ip daddr 10.0.0.3 goto b
add rule ip t a ip daddr 10.0.0.999 drop
add rule ip t b drop
add rule ip t nosuchchain drop
`,
      // A syntax error outside the runs, late in the text.
      `${head}add rule ip t pre ip daddr 10.0.0.1 drop
add rule ip t a drop
add set ip t s { type bogus ; }
add rule ip t b drop
`,
    ];
    const packets = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].flatMap((d) => [tcp('10.1.1.1', d, 80), tcp('10.1.1.3', d, 80)]);
    const errors = new Set<string>();
    for (const text of texts) {
      const want = outcome(text, packets, []);
      for (const o of want) if (!o.startsWith('{')) errors.add(o);
      const lines = byLines(text);
      assert.deepEqual(outcome(lines, packets, []), want, 'one piece per line');
      for (let cut = 1; cut < lines.length; cut++) {
        const pieces = [lines.slice(0, cut).join(''), lines.slice(cut).join('')];
        assert.deepEqual(outcome(pieces, packets, []), want, `cut after line ${cut}`);
      }
    }
    // The texts do reach errors, each naming its line.
    assert.ok(
      [...errors].some((e) => /^trace: line 13: .*10\.0\.0\.999/.test(e)),
      [...errors].join('\n'),
    );
    assert.ok(
      [...errors].some((e) => /^parse: line 7: .*bogus/.test(e)),
      [...errors].join('\n'),
    );
  });
});
