// The full sync's input as bytes (src/util/byte-text.ts) and the chain-name hash cut from string digests
// (naming.ts): both must give exactly what the plain string forms give.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ByteText, byteLength, textOf } from '../../../src/util/byte-text.js';
import { hash16 } from '../../../src/dataplanes/iptables/naming.js';

describe('iptables restore input as bytes', () => {
  it('holds exactly the text written, across buffer growth, whole-buffer appends and non-ASCII', () => {
    const b = new ByteText({ sizeHint: 16 * 1024 }); // the smallest first slab: grows several times below
    let expected = '';
    const appended = Buffer.from('-A KUBE-SEP-X -j DNAT\n-A KUBE-SEP-Y -j DNAT\n');
    for (let i = 0; i < 5000; i++) {
      const name = i % 997 === 0 ? `ns/ünïcødé-€-${i}` : `ns/svc-${i}`;
      b.add('-A KUBE-SVC-');
      b.add(String(i));
      b.end(` -m comment --comment "${name}"`);
      expected += `-A KUBE-SVC-${i} -m comment --comment "${name}"\n`;
      if (i % 1500 === 0) {
        b.append([appended], 2);
        expected += appended.toString();
      }
    }
    const lines = b.lines;
    const parts = b.take();
    assert.ok(parts.length > 3, `several segments (${parts.length})`);
    assert.equal(textOf(parts), expected);
    assert.equal(byteLength(parts), Buffer.byteLength(expected));
    assert.equal(lines, expected.split('\n').length - 1);
    assert.deepEqual(b.take(), [], 'empty after take');
  });

  it('one segment: decoded as it is', () => {
    const b = new ByteText();
    b.end('COMMIT');
    assert.equal(textOf(b.take()), 'COMMIT\n');
  });
});

describe('iptables chain-name hash from string digests', () => {
  // The reference: base32 (RFC 4648 alphabet) of the raw digest bytes, first 16 characters.
  const reference = (text: string) => {
    const bytes = createHash('sha256').update(text).digest();
    let bits = '';
    for (const byte of bytes.subarray(0, 10)) bits += byte.toString(2).padStart(8, '0');
    let out = '';
    for (let i = 0; i < 80; i += 5) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[parseInt(bits.slice(i, i + 5), 2)];
    return out;
  };

  it('equals base32 of the digest bytes for many inputs', () => {
    for (let i = 0; i < 3000; i++) {
      const text = `ns${i % 7}/svc-${i}:p${i % 3}tcp10.${i >> 8}.${i & 255}.${i % 13}:${1000 + i}`;
      assert.equal(hash16(text), reference(text), text);
    }
    assert.equal(hash16('kube-system/kube-dns:dnsudp'), reference('kube-system/kube-dns:dnsudp'));
  });
});
