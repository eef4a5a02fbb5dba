// kube-proxy names its per-Service chains after a sha256 digest cut into base32 (iptables:
// 16 characters, nftables: 8). Both dataplanes hash once per endpoint on a full sync
// (100,000 times at 10,000 Services × 10 endpoints), so the digest is taken as a latin1
// string (one character per byte) rather than a Buffer, a new ArrayBuffer per name that cost
// more than the hashing, and each name is built as one flat string: with `+=` or
// `prefix + hash` it was a tree of short strings, walked again by every Map, Set and join that
// met it.
import * as crypto from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

// One-shot crypto.hash (Node ≥ 20.12) costs about half of createHash().update().digest().
// 'binary' is Node's name for latin1 (the only spelling its digest types accept).
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'binary') => string }).hash;

/** sha256 of `text` as a latin1 string: character i is byte i of the digest. */
export const sha256Latin1: (text: string) => string = oneShot ? (text) => oneShot('sha256', text, 'binary') : (text) => crypto.createHash('sha256').update(text).digest('binary');

const codes: number[] = [];

/** `prefix` followed by the first `chars` characters of RFC 4648 base32 of `digest` (latin1, as sha256Latin1 gives it). */
export function base32Name(prefix: string, digest: string, chars: number): string {
  codes.length = prefix.length + chars;
  for (let i = 0; i < prefix.length; i++) codes[i] = prefix.charCodeAt(i);
  let at = prefix.length;
  const end = at + chars;
  let value = 0;
  let bits = 0;
  for (let i = 0; at < end; i++) {
    value = ((value << 8) | digest.charCodeAt(i)) & 0xffff;
    bits += 8;
    while (bits >= 5 && at < end) {
      bits -= 5;
      codes[at++] = BASE32.charCodeAt((value >>> bits) & 31);
    }
  }
  return String.fromCharCode.apply(null, codes);
}
