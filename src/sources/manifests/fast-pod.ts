// A Pod document in the common shape, read straight from its text into what the general path
// would make of it: the Pod that validatePod() returns, its catalog id and its fingerprint,
// without building the parsed object, checking it field by field (strict.ts) and walking it
// again for the fingerprint. A folder of 100,000 Pods spends most of its load there.
//
// Two passes over one document:
//  1. scan: the YAML subset of fast-yaml.ts, narrowed further (plain scalars of a few
//     characters, no quoted keys, no nulls, booleans or floats, no block scalars...), cut
//     into a flat list of tokens (map, key, string, integer, sequence, end) held in typed
//     arrays, so that nothing is allocated for what the Pod does not keep;
//  2. read: the tokens against the one Pod shape taken here (the fields validatePod reads,
//     and a few it ignores that strict validation accepts: image, hostIP), with every check
//     that validatePod and strictProblems make; then the Pod is built with the same sharing
//     helpers in the same order as validatePod, and the fingerprint is fed from the tokens.
// A folder's Pods come from one tool, in one layout: once a layout is known, a document in it
// skips both passes' walks (a regular expression takes its values, and the reader's recipe
// for that layout is replayed on them; see "known shape" below).
// Anything else declines (null) and goes the general way, which reports what is wrong: a
// decline costs time, a wrong accept would be a defect. test/sources/manifests/fast-pod.test.ts
// compares this with the general path on generated and hand-picked documents.
import { parseIP } from '../../api/ip.js';
import type { Container, ContainerPort, Pod } from '../pods/pod.js';
import { MAX_TIMER_SECONDS, podLabels, PROTOCOLS } from '../pods/pod.js';
import { intern, lastSharedLabels, sharedContainers } from '../pods/shared.js';
import { isKeyChar } from './fast-yaml.js';
import {
  beginFingerprint,
  endFingerprint,
  fingerprintArrayStart,
  fingerprintKey,
  fingerprintNumber,
  fingerprintObjectEnd,
  fingerprintObjectStart,
  fingerprintPlanned,
  fingerprintString,
  FingerprintPlan,
} from '../../util/fingerprint.js';

export interface FastPod {
  /** objectId() of the parsed object (catalog.ts): "Pod/<namespace, or default>/<name>". */
  id: string;
  /** Exactly the `pod` of validatePod(parsed object), which is ok. */
  pod: Pod;
  /** Exactly fingerprintOf(parsed object). */
  digest: number;
}

/** Thrown inside to decline; never escapes fastPod. */
const DECLINE = new Error('not a common-shape Pod');

/**
 * One YAML document's text, as read.ts's splitDocuments() cuts it, from a file that passed
 * fastPathEligible(text, false). The FastPod when the document is a Pod in the common shape
 * that the general path accepts without any report; null whenever that might not be so.
 */
export function fastPod(doc: string): FastPod | null {
  if (!mayBePod(doc)) return null; // most other documents leave here, before any scanning
  try {
    shape = null;
    const known = matchShape(doc);
    if (!known) scan(doc);
    const pod = shape !== null ? replay(shape) : read();
    const fastDigest = digest();
    if (!known) learnShape();
    return { id: ['Pod', pod.namespace, pod.name].join('/'), pod, digest: fastDigest };
  } catch (e) {
    if (e === DECLINE) return null;
    throw e;
  } finally {
    text = ''; // nothing of the document stays referenced here
    if (shape !== null) for (const i of shape.valueTokens) values[i] = '';
    shape = null;
  }
}

/** A line `kind: Pod` at column 0: a cheap first sieve (the scan checks everything again). */
function mayBePod(doc: string): boolean {
  for (let i = doc.indexOf('kind: Pod'); i >= 0; i = doc.indexOf('kind: Pod', i + 1)) {
    if (i > 0 && doc.charCodeAt(i - 1) !== NL) continue;
    const after = doc.charCodeAt(i + 9);
    if (after === NL || after === SPACE || Number.isNaN(after)) return true;
  }
  return false;
}

const NL = 10;
const SPACE = 32;
const DQUOTE = 34;
const HASH = 35;
const SQUOTE = 39;
const COMMA = 44;
const DASH = 45;
const DOT = 46;
const SLASH = 47;
const COLON = 58;
const LBRACKET = 91;
const BACKSLASH = 92;
const RBRACKET = 93;
const UNDERSCORE = 95;
const LBRACE = 123;
const RBRACE = 125;

// ---- pass 1: the scan -------------------------------------------------------------------

// Token kinds. A token is (kind, a, b): text[a, b) for KEY, STR and INT (its value in ns),
// the element count in a for SEQ (set when the sequence ends). A value token also has its
// context (how it was written: what another document may write in its place, see shapes).
const MAP = 1;
const END_MAP = 2;
const SEQ = 3;
const END_SEQ = 4;
const KEY = 5;
const STR = 6;
const INT = 7;

/** More tokens than any Pod worth the fast path has: such a document declines. */
const MAX_TOKENS = 4096;
const kinds = new Uint8Array(MAX_TOKENS);
const as = new Int32Array(MAX_TOKENS);
const bs = new Int32Array(MAX_TOKENS);
const ns = new Int32Array(MAX_TOKENS);
const contexts = new Uint8Array(MAX_TOKENS);
let count = 0;

// Value contexts.
const NOT_A_VALUE = 0;
const PLAIN_BLOCK = 1; // a plain scalar that ends its line
const PLAIN_FLOW = 2; // a plain scalar in a flow collection
const DOUBLE_QUOTED = 3; // the text between the quotes
const SINGLE_QUOTED = 4;

function emit(kind: number, a: number, b: number): number {
  if (count === MAX_TOKENS) throw DECLINE;
  kinds[count] = kind;
  as[count] = a;
  bs[count] = b;
  contexts[count] = NOT_A_VALUE;
  return count++;
}

// The document and the current content line (as fast-yaml.ts's Parser keeps it): its start
// (ls < 0 at the end), indentation, first content character and end (trailing spaces off).
let text = '';
let ls = 0;
let ind = 0;
let cs = 0;
let le = 0;
let nextStart = 0;

function scan(doc: string): void {
  text = doc;
  nextStart = 0;
  count = 0;
  next();
  if (ls < 0 || ind !== 0) throw DECLINE;
  mapping(0);
  if (ls >= 0) throw DECLINE;
}

/** Moves to the next line that holds more than spaces or a comment. */
function next(): void {
  const t = text;
  for (;;) {
    const start = nextStart;
    if (start >= t.length) {
      ls = -1;
      return;
    }
    let end = t.indexOf('\n', start);
    if (end < 0) end = t.length;
    nextStart = end + 1;
    let c = start;
    while (c < end && t.charCodeAt(c) === SPACE) c++;
    if (c === end) continue;
    if (t.charCodeAt(c) === HASH) {
      printable(c, end); // a comment line: only its characters matter
      continue;
    }
    let e = end;
    while (t.charCodeAt(e - 1) === SPACE) e--;
    ls = start;
    ind = c - start;
    cs = c;
    le = e;
    return;
  }
}

/** Declines unless text[a, b) is printable ASCII. */
function printable(a: number, b: number): void {
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c < SPACE || c > 126) throw DECLINE;
  }
}

/** A block mapping whose keys are at column `indent`, from the current line. */
function mapping(indent: number): void {
  const t = text;
  emit(MAP, 0, 0);
  while (ls >= 0 && ind === indent) {
    const k = cs;
    const i = keyEnd(k, le);
    if (i + 1 < le && t.charCodeAt(i + 1) !== SPACE) throw DECLINE; // "a:b" is no key
    emit(KEY, k, i);
    let v = i + 1;
    while (v < le && t.charCodeAt(v) === SPACE) v++;
    if (v < le) {
      inline(v, le);
      next();
    } else {
      next();
      if (ls >= 0 && ind > indent) block(ind);
      else if (ls >= 0 && ind === indent && isDash()) sequence(indent);
      else throw DECLINE; // null
    }
    if (ls >= 0 && ind > indent) throw DECLINE; // a continuation line, or bad indentation
  }
  emit(END_MAP, 0, 0);
}

/**
 * The end of a plain key starting at k, which its colon follows: the key's characters are
 * those of fast-yaml.ts, starting with a letter or '_' (so never a number, which would also
 * sort first in an object), and not a null or boolean word nor __proto__.
 */
function keyEnd(k: number, e: number): number {
  const t = text;
  const c0 = t.charCodeAt(k);
  if (!((c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90) || c0 === UNDERSCORE)) throw DECLINE;
  let i = k + 1;
  while (i < e && isKeyChar(t.charCodeAt(i))) i++;
  if (t.charCodeAt(i) !== COLON || i >= e) throw DECLINE;
  if (isWord(t, k, i) || (c0 === UNDERSCORE && i - k === 9 && same('__proto__', k))) throw DECLINE;
  return i;
}

function block(indent: number): void {
  if (isDash()) sequence(indent);
  else mapping(indent);
}

function isDash(): boolean {
  return text.charCodeAt(cs) === DASH && (cs + 1 === le || text.charCodeAt(cs + 1) === SPACE);
}

/** A block sequence whose dashes are at column `indent`; each item a mapping or a one-line flow value. */
function sequence(indent: number): void {
  const t = text;
  const at = emit(SEQ, 0, 0);
  let n = 0;
  while (ls >= 0 && ind === indent && isDash()) {
    let c = cs + 1;
    while (c < le && t.charCodeAt(c) === SPACE) c++;
    if (c >= le) throw DECLINE; // the item on the lines below: not taken here
    const lead = t.charCodeAt(c);
    if (lead === LBRACE || lead === LBRACKET) {
      inline(c, le);
      next();
    } else {
      // "- name: app": a mapping whose keys are at the column of "name".
      ind = c - ls;
      cs = c;
      mapping(ind);
    }
    n++;
    if (ls >= 0 && ind > indent) throw DECLINE;
  }
  as[at] = n;
  emit(END_SEQ, 0, 0);
}

/** A value written on the rest of a line, text[a, e). */
function inline(a: number, e: number): void {
  const t = text;
  const c = t.charCodeAt(a);
  if (c === LBRACE || c === LBRACKET) {
    flow.i = a;
    flow.e = e;
    flowValue();
    if (flow.i !== e) throw DECLINE; // trailing spaces are cut already: anything left is more
    return;
  }
  if (c === DQUOTE || c === SQUOTE) {
    const close = t.indexOf(c === DQUOTE ? '"' : "'", a + 1);
    if (close !== e - 1) throw DECLINE; // not closed on this line, an escaped quote, or text after it
    quoted(a + 1, close, c);
    return;
  }
  plain(a, e, true);
}

/** The contents of a quoted scalar: printable ASCII, no escapes. */
function quoted(a: number, b: number, quote: number): void {
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c < SPACE || c > 126 || (quote === DQUOTE && c === BACKSLASH)) throw DECLINE;
  }
  contexts[emit(STR, a, b)] = quote === DQUOTE ? DOUBLE_QUOTED : SINGLE_QUOTED;
}

/**
 * A plain scalar text[a, b) that is all of the value: a letter or digit, then letters,
 * digits and `._/-` (and ':' outside flow collections, for IPv6 addresses and image names,
 * but not last). Under the core schema it reads as a string or a decimal integer; whatever
 * might read as anything else (null, booleans, floats, octal, hexadecimal, ...) declines.
 */
function plain(a: number, b: number, colons: boolean): void {
  const kind = classify(text, a, b, colons);
  const at = emit(kind, a, b);
  ns[at] = int32;
  contexts[at] = colons ? PLAIN_BLOCK : PLAIN_FLOW;
}

/** The value of the last INT that classify() found. */
let int32 = 0;

/** STR or INT (its value in int32) for the plain scalar t[a, b) (see plain); declines anything else. */
function classify(t: string, a: number, b: number, colons: boolean): number {
  const c0 = t.charCodeAt(a);
  const digit = c0 >= 48 && c0 <= 57;
  if (!digit && !((c0 >= 97 && c0 <= 122) || (c0 >= 65 && c0 <= 90))) throw DECLINE;
  let dots = 0;
  // A character no number has: ':' or '/', a '-' not after e or E (an exponent's sign), or
  // a letter beyond f other than o and x (hexadecimal digits, 0o, 0x, exponents).
  let other = false;
  for (let i = a + 1; i < b; i++) {
    const c = t.charCodeAt(i);
    if (c === DOT) dots++;
    else if ((c === COLON && colons) || c === SLASH) other = true;
    else if (c === DASH) other ||= (t.charCodeAt(i - 1) | 0x20) !== 101;
    else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) other ||= (c | 0x20) > 102 && (c | 0x20) !== 111 && (c | 0x20) !== 120;
    else if (!((c >= 48 && c <= 57) || c === UNDERSCORE)) throw DECLINE;
  }
  if (t.charCodeAt(b - 1) === COLON) throw DECLINE;
  if (!digit) {
    if (isWord(t, a, b)) throw DECLINE;
    return STR;
  }
  const n = decimal(t, a, b);
  if (n >= 0) {
    int32 = n;
    return INT;
  }
  if (dots >= 2 || other) return STR; // "10.0.0.1", "2001:db8::1", "2b989da6-aeb5-...", "1n-a7"
  throw DECLINE; // "1.5", "1e3", "1e-3", "0x1F", "010", "1_000", "12ab": js-yaml's
}

/** The value of t[a, b) when it is 0 or a decimal integer up to 2^31-1 without a leading zero; else -1. */
function decimal(t: string, a: number, b: number): number {
  if (b - a > 10 || (b - a > 1 && t.charCodeAt(a) === 48)) return -1;
  let n = 0;
  for (let i = a; i < b; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n <= 0x7fffffff ? n : -1;
}

/** True when t[a, b) is a word the core schema reads as null or a boolean. */
function isWord(t: string, a: number, b: number): boolean {
  const n = b - a;
  if (n !== 4 && n !== 5) return false;
  const c = t.charCodeAt(a) | 0x20; // n, t or f in either case
  if (c !== 110 && c !== 116 && c !== 102) return false;
  for (let i = 0; i < WORDS.length; i++) if (WORDS[i].length === n && t.startsWith(WORDS[i], a)) return true;
  return false;
}
const WORDS = ['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE'];

/** True when `s` is written at text[a, ...) (no bounds: the caller knows the lengths agree). */
function same(s: string, a: number): boolean {
  for (let i = 0; i < s.length; i++) if (text.charCodeAt(a + i) !== s.charCodeAt(i)) return false;
  return true;
}

// One-line flow collections: `{app: web, tier: db}`, `[{name: http, containerPort: 8080}]`.
const flow = { i: 0, e: 0 };

function flowSpaces(): void {
  while (flow.i < flow.e && text.charCodeAt(flow.i) === SPACE) flow.i++;
}

function flowValue(): void {
  flowSpaces();
  if (flow.i >= flow.e) throw DECLINE;
  const c = text.charCodeAt(flow.i);
  if (c === LBRACE) flowMap();
  else if (c === LBRACKET) flowSeq();
  else flowScalar();
}

function flowMap(): void {
  const t = text;
  emit(MAP, 0, 0);
  flow.i++;
  flowSpaces();
  if (t.charCodeAt(flow.i) === RBRACE) {
    flow.i++;
    emit(END_MAP, 0, 0);
    return;
  }
  for (;;) {
    flowSpaces();
    const k = flow.i;
    const i = keyEnd(k, flow.e);
    if (t.charCodeAt(i + 1) !== SPACE) throw DECLINE;
    emit(KEY, k, i);
    flow.i = i + 2;
    flowValue();
    flowSpaces();
    const c = t.charCodeAt(flow.i++);
    if (c === RBRACE) break;
    if (c !== COMMA) throw DECLINE;
  }
  emit(END_MAP, 0, 0);
}

function flowSeq(): void {
  const t = text;
  const at = emit(SEQ, 0, 0);
  let n = 0;
  flow.i++;
  flowSpaces();
  if (t.charCodeAt(flow.i) === RBRACKET) {
    flow.i++;
  } else {
    for (;;) {
      flowValue();
      n++;
      flowSpaces();
      const c = t.charCodeAt(flow.i++);
      if (c === RBRACKET) break;
      if (c !== COMMA) throw DECLINE;
    }
  }
  as[at] = n;
  emit(END_SEQ, 0, 0);
}

/** A scalar inside a flow collection: quoted, or plain up to the next space, `,`, `]` or `}`. */
function flowScalar(): void {
  const t = text;
  const a = flow.i;
  const c = t.charCodeAt(a);
  if (c === DQUOTE || c === SQUOTE) {
    const close = t.indexOf(c === DQUOTE ? '"' : "'", a + 1);
    if (close < 0 || close >= flow.e) throw DECLINE;
    if (c === SQUOTE && t.charCodeAt(close + 1) === SQUOTE) throw DECLINE; // '' escape
    quoted(a + 1, close, c);
    flow.i = close + 1;
    return;
  }
  let i = a;
  while (i < flow.e) {
    const d = t.charCodeAt(i);
    if (d === SPACE || d === COMMA || d === RBRACKET || d === RBRACE) break;
    i++;
  }
  if (i === a) throw DECLINE;
  plain(a, i, false);
  flow.i = i;
}

// ---- pass 1, faster: a known shape ---------------------------------------------------------
//
// A folder's Pods are written by one tool, Pod after Pod in the same layout: only the values
// differ. An accepted document's layout (its text with each value cut out) becomes a regular
// expression: the text between values literally, each value as a group of the characters its
// context allows (irregexp matches it several times faster than the scan above reads it).
// When the next document matches, the scan would cut exactly the learnt tokens with other
// values in them, as no value's characters can end it early or run it into the text after it
// (plain values hold no space, no flow indicator and no quote; quoted ones not their quote);
// each plain value is classified again, and one that reads as another type than in the
// layout (a number for a string) sends the document to the scan. A layout is compiled once it
// is seen a second time, so that a folder of all different layouts pays only for writing each
// one down.

/** The characters each value context allows, as a capturing group (see plain and quoted). */
const GROUPS = ['', '([A-Za-z0-9][-A-Za-z0-9_./:]*)', '([A-Za-z0-9][-A-Za-z0-9_./]*)', '([ !#-\\[\\]-~]*)', '([ -&(-~]*)'];

/** A known layout: its expression, its tokens' kinds and contexts, and what the reader made of them. */
interface Shape {
  re: RegExp;
  kinds: Uint8Array;
  contexts: Uint8Array;
  /** The fingerprint stream between the values: plan words, cut before each value. */
  words: Int32Array;
  cuts: Int32Array;
  /** The value tokens, in order. */
  valueTokens: Int32Array;
  /** The text of each KEY token (by token index; '' for others). */
  keyTexts: string[];
  /** What the reader did with each value (see Op): replayed instead of reading the tokens again. */
  recipe: Int32Array;
}

/** The shape matched for the document being read, else null. */
let shape: Shape | null = null;

const MAX_SHAPES = 8;
/** The compiled layouts, the last one matched first. */
const shapes: Shape[] = [];
/** Layouts seen once (by their expression's source), not compiled yet. */
const seenOnce = new Set<string>();
const MAX_SEEN_ONCE = 256;

/**
 * Reads doc's values through the first known shape that matches it; false when none does (or
 * a value reads as another type than the shape's, a number where it had a string: the scan
 * decides then).
 */
function matchShape(doc: string): boolean {
  for (let s = 0; s < shapes.length; s++) {
    const known = shapes[s];
    const m = known.re.exec(doc);
    if (m === null || !takeValues(known, m)) continue;
    if (s > 0) [shapes[0], shapes[s]] = [known, shapes[0]];
    text = doc;
    shape = known;
    return true;
  }
  return false;
}

/**
 * The values of a match into `values` (and `ns`) at their tokens' places, each plain one
 * classified again; false when one reads as another type than in the shape. The group of a
 * value allows only its context's characters, so a plain value that starts with a letter
 * needs only the null/boolean words and a last ':' checked.
 */
function takeValues(known: Shape, m: RegExpExecArray): boolean {
  const { valueTokens, contexts: shapeContexts, kinds: shapeKinds } = known;
  for (let v = 0; v < valueTokens.length; v++) {
    const i = valueTokens[v];
    const value = m[v + 1];
    values[i] = value;
    const context = shapeContexts[i];
    if (context !== PLAIN_BLOCK && context !== PLAIN_FLOW) continue; // quoted: a string
    const n = value.length;
    const c0 = value.charCodeAt(0);
    const colons = context === PLAIN_BLOCK;
    const kind = c0 <= 57 || (colons && value.charCodeAt(n - 1) === COLON) || ((n === 4 || n === 5) && isWord(value, 0, n)) ? classify(value, 0, n, colons) : STR;
    if (kind !== shapeKinds[i]) return false;
    ns[i] = int32;
  }
  return true;
}

/** Writes down the layout of the document just accepted by the scan; compiles it when seen before. */
function learnShape(): void {
  let source = '^';
  let at = 0;
  for (let i = 0; i < count; i++) {
    const context = contexts[i];
    if (context === NOT_A_VALUE) continue;
    source += escape(text.slice(at, as[i])) + GROUPS[context];
    at = bs[i];
  }
  source += `${escape(text.slice(at))}$`;
  if (!seenOnce.has(source)) {
    if (seenOnce.size >= MAX_SEEN_ONCE) seenOnce.clear();
    seenOnce.add(source);
    return;
  }
  seenOnce.delete(source);
  const plan = new FingerprintPlan();
  const cuts: number[] = [];
  const valueTokens: number[] = [];
  for (let i = 0; i < count; i++) {
    if (contexts[i] !== NOT_A_VALUE) {
      cuts.push(plan.words.length);
      valueTokens.push(i);
      continue;
    }
    const kind = kinds[i];
    if (kind === MAP) plan.objectStart();
    else if (kind === END_MAP) plan.objectEnd();
    else if (kind === SEQ) plan.arrayStart(as[i]);
    else if (kind === KEY) plan.key(text, as[i], bs[i]);
  }
  if (shapes.length >= MAX_SHAPES) shapes.pop();
  shapes.unshift({
    re: new RegExp(source),
    kinds: kinds.slice(0, count),
    contexts: contexts.slice(0, count),
    words: Int32Array.from(plan.words),
    cuts: Int32Array.from(cuts),
    valueTokens: Int32Array.from(valueTokens),
    keyTexts: Array.from({ length: count }, (_, i) => (kinds[i] === KEY ? text.slice(as[i], bs[i]) : '')),
    recipe: Int32Array.from(recipe),
  });
}

function escape(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- pass 2: the tokens read as a Pod -----------------------------------------------------

let p = 0; // the token being read
/** With a known shape, each value token's text as the match gave it (no second copy). */
const values: string[] = [];

/** Which of `names` the key token at p is (and moves past it); declines on any other key. */
function field(names: readonly string[]): number {
  if (kinds[p] !== KEY) throw DECLINE;
  const a = as[p];
  const n = bs[p] - a;
  for (let f = 0; f < names.length; f++) {
    const name = names[f];
    if (name.length === n && same(name, a)) {
      p++;
      return f;
    }
  }
  throw DECLINE; // a field this reader does not take (maybe a misspelt one: strict.ts's)
}

/** The fields seen in a mapping, with field f: declines when f was seen (js-yaml would keep the last). */
function mark(seen: number, f: number): number {
  if (seen & (1 << f)) throw DECLINE;
  return seen | (1 << f);
}

function str(): string {
  if (kinds[p] !== STR) throw DECLINE;
  const s = text.slice(as[p], bs[p]);
  p++;
  return s;
}

/** Declines unless the token at p is the string `want`. */
function strIs(want: string): void {
  if (kinds[p] !== STR) throw DECLINE;
  if (bs[p] - as[p] !== want.length || !same(want, as[p])) throw DECLINE;
  p++;
}

function int(): number {
  if (kinds[p] !== INT) throw DECLINE;
  return ns[p++];
}

function mapStart(): void {
  if (kinds[p] !== MAP) throw DECLINE;
  p++;
}

/** The element count of the sequence starting at p (moves past its start). */
function seqStart(): number {
  if (kinds[p] !== SEQ) throw DECLINE;
  return as[p++];
}

/** True while the mapping being read has entries left; moves past its end. */
function more(): boolean {
  if (kinds[p] !== END_MAP) return true;
  p++;
  return false;
}

function seqEnd(): void {
  if (kinds[p] !== END_SEQ) throw DECLINE;
  p++;
}

// What a document gave, before any sharing helper sees it (a document that declines halfway
// must not have touched their tables).
let name = '';
let namespace = '';
let uid = '';
let rawLabels: Record<string, string> = {};
let nodeName = '';
let hostname = '';
let subdomain = '';
let grace = 30;
let containers: Container[] = [];
/** The canonical addresses so far; build() copies them out, so one list serves every document. */
const ips: string[] = [];
let podIP = '';
let podIPsCount = 0;
let phase = '';
let statusReady: boolean | null = null;

const TOP = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const METADATA = ['name', 'namespace', 'labels', 'uid'];
const SPEC = ['containers', 'nodeName', 'hostname', 'subdomain', 'terminationGracePeriodSeconds'];
const CONTAINER = ['name', 'ports', 'image'];
const PORT = ['name', 'containerPort', 'protocol'];
const STATUS = ['podIP', 'podIPs', 'phase', 'conditions', 'hostIP'];
const POD_IP = ['ip'];
const CONDITION = ['type', 'status'];

function read(): Pod {
  p = 0;
  recipe.length = 0;
  reset();
  let seen = 0;
  mapStart();
  while (more()) {
    const f = field(TOP);
    seen = mark(seen, f);
    switch (f) {
      case 0:
        rec(Op.ApiVersion, p);
        strIs('v1');
        break;
      case 1:
        rec(Op.Kind, p);
        strIs('Pod');
        break;
      case 2:
        metadata();
        break;
      case 3:
        spec();
        break;
      case 4:
        status();
    }
  }
  if ((seen & 3) !== 3) throw DECLINE; // apiVersion and kind: required
  return finish();
}

/** The state of the document being read, before its first value. */
function reset(): void {
  name = namespace = uid = nodeName = hostname = subdomain = podIP = phase = '';
  podIPsCount = 0;
  rawLabels = {};
  grace = 30;
  containers = [];
  ips.length = 0;
  statusReady = null;
}

/** After the last value: the checks of the whole, then the Pod. */
function finish(): Pod {
  if (!name) throw DECLINE; // metadata.name: required
  if (podIPsCount === 0) addIP(podIP); // status.podIP counts only without status.podIPs
  return build();
}

function metadata(): void {
  let seen = 0;
  mapStart();
  while (more()) {
    const f = field(METADATA);
    seen = mark(seen, f);
    switch (f) {
      case 0:
        rec(Op.Name, p);
        name = str();
        break;
      case 1:
        rec(Op.Namespace, p);
        namespace = str();
        break;
      case 2:
        labels();
        break;
      case 3:
        rec(Op.Uid, p);
        uid = str();
    }
  }
}

function labels(): void {
  mapStart();
  while (more()) {
    if (kinds[p] !== KEY) throw DECLINE;
    const k = text.slice(as[p], bs[p]);
    p++;
    if (Object.prototype.hasOwnProperty.call(rawLabels, k)) throw DECLINE;
    rec(Op.Label, p, p - 1);
    rawLabels[k] = str();
  }
}

function spec(): void {
  let seen = 0;
  mapStart();
  while (more()) {
    const f = field(SPEC);
    seen = mark(seen, f);
    switch (f) {
      case 0: {
        const n = seqStart();
        rec(Op.Containers, n);
        containers = new Array(n);
        for (let i = 0; i < n; i++) containers[i] = container(i);
        seqEnd();
        break;
      }
      case 1:
        rec(Op.NodeName, p);
        nodeName = str();
        break;
      case 2:
        rec(Op.Hostname, p);
        hostname = str();
        break;
      case 3:
        rec(Op.Subdomain, p);
        subdomain = str();
        break;
      case 4:
        rec(Op.Grace, p);
        grace = int();
        if (grace > MAX_TIMER_SECONDS) throw DECLINE;
    }
  }
}

/** A container as validatePod builds it, its strings not interned yet (see build). */
function container(i: number): Container {
  let seen = 0;
  let cname = '';
  let ports: ContainerPort[] = [];
  rec(Op.ContainerBegin, i);
  mapStart();
  while (more()) {
    const f = field(CONTAINER);
    seen = mark(seen, f);
    switch (f) {
      case 0:
        rec(Op.ContainerName, p);
        cname = str();
        break;
      case 1: {
        const n = seqStart();
        rec(Op.Ports, n);
        ports = new Array(n);
        for (let j = 0; j < n; j++) ports[j] = port(j);
        seqEnd();
        break;
      }
      case 2:
        str(); // image: not read by kproxy, but a string it must be
    }
  }
  rec(Op.ContainerEnd, i);
  return { name: cname, ports, readinessProbe: null };
}

function port(j: number): ContainerPort {
  let seen = 0;
  let pname = '';
  let containerPort = 0;
  let protocol = 'TCP';
  rec(Op.PortBegin, j);
  mapStart();
  while (more()) {
    const f = field(PORT);
    seen = mark(seen, f);
    switch (f) {
      case 0:
        rec(Op.PortName, p);
        pname = str();
        break;
      case 1:
        rec(Op.PortNumber, p);
        containerPort = int();
        break;
      case 2:
        rec(Op.Protocol, p);
        protocol = str() || 'TCP';
    }
  }
  rec(Op.PortEnd, j);
  if (containerPort < 1 || containerPort > 65535 || !PROTOCOLS.includes(protocol)) throw DECLINE;
  return { name: pname, containerPort, protocol: protocol as ContainerPort['protocol'] };
}

function status(): void {
  let seen = 0;
  mapStart();
  while (more()) {
    const f = field(STATUS);
    seen = mark(seen, f);
    switch (f) {
      case 0:
        rec(Op.PodIP, p);
        podIP = str();
        break;
      case 1: {
        const n = seqStart();
        rec(Op.PodIPs, n);
        podIPsCount = n;
        for (let i = 0; i < n; i++) {
          let ip = '';
          let at = -1;
          let s = 0;
          mapStart();
          while (more()) {
            s = mark(s, field(POD_IP));
            at = p;
            ip = str();
          }
          rec(Op.PodIPsItem, at);
          addIP(ip);
        }
        seqEnd();
        break;
      }
      case 2:
        rec(Op.Phase, p);
        phase = str();
        break;
      case 3: {
        const n = seqStart();
        for (let i = 0; i < n; i++) condition();
        seqEnd();
        break;
      }
      case 4:
        str(); // hostIP: not read by kproxy
    }
  }
}

function condition(): void {
  let seen = 0;
  let type = '';
  let state: string | undefined;
  let typeAt = -1;
  let stateAt = -1;
  mapStart();
  while (more()) {
    const f = field(CONDITION);
    seen = mark(seen, f);
    if (f === 0) {
      typeAt = p;
      type = str();
    } else {
      stateAt = p;
      state = str();
    }
  }
  rec(Op.Condition, typeAt, stateAt);
  if (type === 'Ready') statusReady = state === 'True';
}

// ---- pass 2, faster: a known shape's recipe ----------------------------------------------
//
// The reader's path through a layout's tokens depends only on the tokens' kinds and keys,
// which the layout fixes; only the values differ. So the reader writes down, as it reads, what
// it does with each value (`rec`), and a matched document replays that (`replay`): the same
// assignments and the same checks of the values, with no token walked.

const enum Op {
  ApiVersion = 1, // a: the value's token
  Kind,
  Name,
  Namespace,
  Uid,
  Label, // a: the value's token, b: its key's
  NodeName,
  Hostname,
  Subdomain,
  Grace,
  Containers, // a: how many
  ContainerBegin, // a: its index
  ContainerName,
  Ports, // a: how many
  PortBegin, // a: its index
  PortName,
  PortNumber,
  Protocol,
  PortEnd, // a: its index
  ContainerEnd, // a: its index
  PodIP,
  PodIPs, // a: how many
  PodIPsItem, // a: the ip's token, or -1
  Phase,
  Condition, // a: the type's token, b: the status's (either -1 when absent)
}

/** The reader's recipe of the document being scanned: op, a, b for each step. */
const recipe: number[] = [];

function rec(op: Op, a: number, b = 0): void {
  recipe.push(op, a, b);
}

/** The Pod of a matched document: its shape's recipe replayed on the values of the match. */
function replay(known: Shape): Pod {
  const r = known.recipe;
  reset();
  let cname = '';
  let ports: ContainerPort[] = [];
  let pname = '';
  let containerPort = 0;
  let protocol = 'TCP';
  for (let k = 0; k < r.length; k += 3) {
    const a = r[k + 1];
    switch (r[k] as Op) {
      case Op.ApiVersion:
        if (values[a] !== 'v1') throw DECLINE;
        break;
      case Op.Kind:
        if (values[a] !== 'Pod') throw DECLINE;
        break;
      case Op.Name:
        name = values[a];
        break;
      case Op.Namespace:
        namespace = values[a];
        break;
      case Op.Uid:
        uid = values[a];
        break;
      case Op.Label:
        rawLabels[known.keyTexts[r[k + 2]]] = values[a];
        break;
      case Op.NodeName:
        nodeName = values[a];
        break;
      case Op.Hostname:
        hostname = values[a];
        break;
      case Op.Subdomain:
        subdomain = values[a];
        break;
      case Op.Grace:
        grace = ns[a];
        if (grace > MAX_TIMER_SECONDS) throw DECLINE;
        break;
      case Op.Containers:
        containers = new Array(a);
        break;
      case Op.ContainerBegin:
        cname = '';
        ports = [];
        break;
      case Op.ContainerName:
        cname = values[a];
        break;
      case Op.Ports:
        ports = new Array(a);
        break;
      case Op.PortBegin:
        pname = '';
        containerPort = 0;
        protocol = 'TCP';
        break;
      case Op.PortName:
        pname = values[a];
        break;
      case Op.PortNumber:
        containerPort = ns[a];
        break;
      case Op.Protocol:
        protocol = values[a] || 'TCP';
        break;
      case Op.PortEnd:
        if (containerPort < 1 || containerPort > 65535 || !PROTOCOLS.includes(protocol)) throw DECLINE;
        ports[a] = { name: pname, containerPort, protocol: protocol as ContainerPort['protocol'] };
        break;
      case Op.ContainerEnd:
        containers[a] = { name: cname, ports, readinessProbe: null };
        break;
      case Op.PodIP:
        podIP = values[a];
        break;
      case Op.PodIPs:
        podIPsCount = a;
        break;
      case Op.PodIPsItem:
        addIP(a < 0 ? '' : values[a]);
        break;
      case Op.Phase:
        phase = values[a];
        break;
      case Op.Condition: {
        const b = r[k + 2];
        if (a >= 0 && values[a] === 'Ready') statusReady = b >= 0 && values[b] === 'True';
      }
    }
  }
  return finish();
}

/** As validatePod's addIP: the canonical form, once; an empty text adds nothing. */
function addIP(ip: string): void {
  if (!ip) return;
  const parsed = parseIP(ip);
  if (!parsed) throw DECLINE;
  if (!ips.includes(parsed.ip)) ips.push(parsed.ip);
}

/** The Pod as validatePod builds it: the same sharing calls in the same order, the same field order. */
function build(): Pod {
  const labels = lastSharedLabels(rawLabels) ?? podLabels(rawLabels);
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i];
    for (const port of c.ports) port.name = intern(port.name);
    c.name = intern(c.name || `container-${i}`);
  }
  return {
    namespace: intern(namespace || 'default'),
    name,
    uid,
    labels,
    nodeName: intern(nodeName),
    hostname,
    subdomain: intern(subdomain),
    ips: Object.freeze(ips.length === 1 ? [ips[0]] : ips.slice()) as string[],
    phase: intern(phase),
    containers: sharedContainers(containers),
    deleting: false,
    gracePeriodSeconds: grace,
    statusReady,
  };
}

/** fingerprintOf(the parsed document), fed from the tokens (with a known shape, from its plan and the values). */
function digest(): number {
  beginFingerprint();
  if (shape !== null) {
    const { words, cuts, valueTokens } = shape;
    let w = 0;
    for (let v = 0; v < cuts.length; v++) {
      fingerprintPlanned(words, w, cuts[v]);
      w = cuts[v];
      const i = valueTokens[v];
      if (shape.kinds[i] === INT) fingerprintNumber(ns[i]);
      else fingerprintString(values[i], 0, values[i].length);
    }
    fingerprintPlanned(words, w, words.length);
    return endFingerprint();
  }
  for (let i = 0; i < count; i++) {
    switch (kinds[i]) {
      case MAP:
        fingerprintObjectStart();
        break;
      case END_MAP:
        fingerprintObjectEnd();
        break;
      // END_SEQ adds nothing: the sequence's length came first.
      case SEQ:
        fingerprintArrayStart(as[i]);
        break;
      case KEY:
        fingerprintKey(text, as[i], bs[i]);
        break;
      case STR:
        fingerprintString(text, as[i], bs[i]);
        break;
      case INT:
        fingerprintNumber(ns[i]);
    }
  }
  return endFingerprint();
}
