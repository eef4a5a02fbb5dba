// A fingerprint of a JSON-like value (what JSON.parse or a YAML parser returns): 53 bits
// (a safe integer, no string to allocate) from two 32-bit hashes walked over the value itself, so that "does this read as the same
// object?" can be answered later without keeping the object or building its JSON text.
// Equal JSON gives equal fingerprints; different values give different ones barring a
// collision (about 2^-53 for an edit). It is a fingerprint, not a defence: whoever writes the
// values compared is the one the comparison serves.
//
// The walk feeds a tagged stream (type, length, content) so that different structures cannot
// produce the same stream: {"a":"bc"} and {"ab":"c"}, ["a"] and "a", 1 and "1" all differ.
// It follows JSON's rules for what counts: undefined, functions and symbols are left out of
// objects and are null in arrays, non-finite numbers are null, -0 is 0; key order counts.

let h1 = 0;
let h2 = 0;

// The stream's tags: one per kind of value, and an object's end.
const STRING = 0x73; // s
const NUMBER = 0x64; // d
const NULL = 0x6e; // n
const TRUE = 0x74;
const FALSE = 0x66;
const ARRAY = 0x61; // a
const OBJECT = 0x6f; // o
const OBJECT_END = 0x7d; // }

function mix(c: number): void {
  h1 = Math.imul(h1 ^ c, 0x01000193); // FNV-1a
  h2 = Math.imul((h2 << 5) | (h2 >>> 27), 0x9e3779b1) ^ c;
}

/** The string text[a, b): its length, then two UTF-16 units per step (half the steps; the length tells an odd end apart). */
function mixRange(text: string, a: number, b: number): void {
  mix(b - a);
  let i = a;
  for (; i + 1 < b; i += 2) mix(text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
  if (i < b) mix(text.charCodeAt(i));
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function walk(v: unknown, depth: number): void {
  if (depth > 1000) throw new RangeError('fingerprint: value nested too deeply');
  switch (typeof v) {
    case 'string':
      return fingerprintString(v, 0, v.length);
    case 'number':
      if (!Number.isFinite(v)) return mix(NULL); // as JSON writes it
      return fingerprintNumber(v);
    case 'boolean':
      return mix(v ? TRUE : FALSE);
    case 'object':
      if (v === null) return mix(NULL);
      if (Array.isArray(v)) {
        fingerprintArrayStart(v.length);
        for (const x of v) walk(x === undefined || typeof x === 'function' || typeof x === 'symbol' ? null : x, depth + 1);
        return;
      }
      fingerprintObjectStart();
      for (const k in v) {
        if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        fingerprintKey(k, 0, k.length);
        walk(x, depth + 1);
      }
      return fingerprintObjectEnd();
    default:
      return mix(NULL); // bigint and others: JSON would refuse them; parsed manifests hold none
  }
}

/** 53 bits of the value, as a safe integer. */
export function fingerprintOf(value: unknown): number {
  beginFingerprint();
  walk(value, 0);
  return endFingerprint();
}

/** MurmurHash3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// The stream piece by piece, as walk() feeds it, for a reader that scans a document's text
// and never builds its value (manifests/fast-pod.ts): it calls these in the order walk()
// would visit the value it skips, and gets what fingerprintOf(value) gives.

/** Starts a streamed fingerprint (no other may be under way: the state is shared). */
export function beginFingerprint(): void {
  h1 = 0x811c9dc5;
  h2 = 0x2545f491;
}

/** The streamed fingerprint, as fingerprintOf returns it. */
export function endFingerprint(): number {
  return fmix(h1) * 0x200000 + (fmix(h2 ^ h1) >>> 11);
}

/** An object starts; each entry follows as fingerprintKey and its value. */
export function fingerprintObjectStart(): void {
  mix(OBJECT);
}

export function fingerprintObjectEnd(): void {
  mix(OBJECT_END);
}

/** An array of `length` elements starts; its elements follow. */
export function fingerprintArrayStart(length: number): void {
  mix(ARRAY);
  mix(length);
}

/** The key text[a, b) of an object entry. */
export function fingerprintKey(text: string, a: number, b: number): void {
  mixRange(text, a, b);
}

/** The string value text[a, b). */
export function fingerprintString(text: string, a: number, b: number): void {
  mix(STRING);
  mixRange(text, a, b);
}

/** A finite number value. */
export function fingerprintNumber(v: number): void {
  mix(NUMBER);
  f64[0] = v + 0; // -0 is 0
  mix(u32[0]);
  mix(u32[1]);
}

/**
 * The constant part of a stream written down once, for a reader that feeds the same keys
 * and structure again and again with only the values changing (fast-pod.ts, per layout):
 * `words` are what these calls would mix, fed again by fingerprintPlanned.
 */
export class FingerprintPlan {
  readonly words: number[] = [];

  objectStart(): void {
    this.words.push(OBJECT);
  }

  objectEnd(): void {
    this.words.push(OBJECT_END);
  }

  arrayStart(length: number): void {
    this.words.push(ARRAY, length);
  }

  key(text: string, a: number, b: number): void {
    const w = this.words;
    w.push(b - a);
    let i = a;
    for (; i + 1 < b; i += 2) w.push(text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
    if (i < b) w.push(text.charCodeAt(i));
  }
}

/** Feeds words[from, to) of a plan's words (as an Int32Array: each fits, as mix takes it). */
export function fingerprintPlanned(words: Int32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) mix(words[i]);
}
