// A fast path for the YAML that manifests are nearly always written in: block mappings and
// sequences indented with spaces, one-line flow collections (`{app: web, tier: db}`,
// `[{name: http, port: 80}]`), plain and simple quoted scalars, full-line comments. On such
// a document it returns exactly what js-yaml's core schema (with `json: true`) returns, in
// about a third of the time; on anything else (anchors, aliases, tags, block scalars,
// multi-line scalars, escapes, comments after a value, duplicate keys, tabs, a scalar that
// might be a float or a hexadecimal number, ...) it returns FALLBACK and the caller hands
// the document to js-yaml, which parses it or reports the error with its line. It never
// guesses: whatever it is not sure of is js-yaml's. test/sources/manifests/fast-yaml.test.ts
// compares both on the examples, on odd YAML and on generated documents.

/** The fast path declined this document: parse it with js-yaml. */
export const FALLBACK: unique symbol = Symbol('fallback');

/** Thrown inside the parser to give up; never escapes parseCommonYAML. */
const BAIL = new Error('not a common-shape document');

/**
 * True when a text may go through the fast path at all: no tab, carriage return or other
 * control character (js-yaml refuses some of those, and tabs change indentation rules), and
 * only ASCII when `ascii` is not already known (js-yaml refuses a few non-printable
 * code points; ASCII text has none besides the control characters checked here).
 */
export function fastPathEligible(text: string, ascii: boolean): boolean {
  // eslint-disable-next-line no-control-regex
  if (ascii) return !/[\x00-\x09\x0B-\x1F\x7F]/.test(text);
  // Both at once, one pass over the text: newline and printable ASCII only.
  return !/[^\n\x20-\x7E]/.test(text);
}

/**
 * The value of one YAML document (no `---` inside) when it is a mapping in the common shape,
 * else FALLBACK. The caller has checked fastPathEligible on the text.
 */
export function parseCommonYAML(doc: string): Record<string, unknown> | typeof FALLBACK {
  try {
    const p = new Parser(doc);
    p.next();
    if (p.ls < 0 || p.ind !== 0) return FALLBACK;
    const value = doc.charCodeAt(p.cs) === 123 ? p.flowMapping() : p.mapping(0);
    if (p.ls >= 0) return FALLBACK;
    return value;
  } catch {
    return FALLBACK; // BAIL, or a stack overflow on absurd nesting: js-yaml decides
  }
}

const SPACE = 32;
const HASH = 35;
const DASH = 45;
const COLON = 58;
const DQUOTE = 34;
const SQUOTE = 39;

/** Characters of a plain mapping key: Kubernetes field names, label and annotation keys. */
export function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 47 || c === DASH;
}

/** Characters that may not start a plain scalar here (or that start something else). */
function isIndicator(c: number): boolean {
  // & * ! | > % @ ` # ? : , [ ] { } ' "
  return (
    c === 38 ||
    c === 42 ||
    c === 33 ||
    c === 124 ||
    c === 62 ||
    c === 37 ||
    c === 64 ||
    c === 96 ||
    c === HASH ||
    c === 63 ||
    c === COLON ||
    c === 44 ||
    c === 91 ||
    c === 93 ||
    c === 123 ||
    c === 125 ||
    c === SQUOTE ||
    c === DQUOTE
  );
}

// "-0" is js-yaml's (it reads it as 0, not -0).
const STRICT_INT = /^(?:0|-?[1-9][0-9]{0,14})$/;
/** Plain scalars js-yaml might read as a number other than a plain decimal integer: not ours. */
const MAYBE_NUMBER = /^[-+]?[.0-9][-+.0-9A-Za-z_]*$/;

/** A plain scalar's value under the core schema, or BAIL when it could be a float or a non-decimal number. */
function plainValue(s: string): unknown {
  switch (s) {
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === DASH || c === 43 || c === 46) {
    if (STRICT_INT.test(s)) return Number(s);
    // "10.0.0.1" (two dots) is a string; "1.5", "1e3", "0x1F", ".inf", "+12" are js-yaml's.
    if (MAYBE_NUMBER.test(s) && s.indexOf('.') === s.lastIndexOf('.')) throw BAIL;
  }
  return s;
}

/** A plain key: a string the core schema reads as a string (not a number, bool or null). */
function checkKey(k: string): string {
  const c = k.charCodeAt(0);
  if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95)) throw BAIL;
  if (k === '__proto__' || typeof plainValue(k) !== 'string') throw BAIL;
  return k;
}

class Parser {
  /** Current content line: start of line, indentation, first content char, end (trailing spaces trimmed); ls < 0 at the end. */
  ls = 0;
  ind = 0;
  cs = 0;
  le = 0;
  private nextStart = 0;

  constructor(private readonly t: string) {}

  /** Moves to the next line that holds more than spaces or a comment. */
  next(): void {
    const t = this.t;
    for (;;) {
      const start = this.nextStart;
      if (start >= t.length) {
        this.ls = -1;
        return;
      }
      let end = t.indexOf('\n', start);
      if (end < 0) end = t.length;
      this.nextStart = end + 1;
      let cs = start;
      while (cs < end && t.charCodeAt(cs) === SPACE) cs++;
      if (cs === end || t.charCodeAt(cs) === HASH) continue;
      let le = end;
      while (t.charCodeAt(le - 1) === SPACE) le--;
      this.ls = start;
      this.ind = cs - start;
      this.cs = cs;
      this.le = le;
      return;
    }
  }

  /** A block mapping whose keys are at column `indent`, starting at the current line. */
  mapping(indent: number): Record<string, unknown> {
    const t = this.t;
    const obj: Record<string, unknown> = {};
    while (this.ls >= 0 && this.ind === indent) {
      let i = this.cs;
      const le = this.le;
      let key: string;
      if (t.charCodeAt(i) === DQUOTE) {
        const close = t.indexOf('"', i + 1);
        if (close < 0 || close > le) throw BAIL;
        key = t.slice(i + 1, close);
        if (key.indexOf('\\') >= 0 || key === '__proto__') throw BAIL;
        i = close + 1;
      } else {
        while (i < le && isKeyChar(t.charCodeAt(i))) i++;
        if (i === this.cs) throw BAIL;
        key = checkKey(t.slice(this.cs, i));
      }
      if (t.charCodeAt(i) !== COLON || (i + 1 < le && t.charCodeAt(i + 1) !== SPACE)) throw BAIL;
      if (Object.prototype.hasOwnProperty.call(obj, key)) throw BAIL; // duplicate: let js-yaml decide
      let v = i + 1;
      while (v < le && t.charCodeAt(v) === SPACE) v++;
      if (v >= le) {
        this.next();
        if (this.ls >= 0 && this.ind > indent) obj[key] = this.block(this.ind);
        else if (this.ls >= 0 && this.ind === indent && this.isDash()) obj[key] = this.sequence(indent);
        else obj[key] = null;
      } else {
        obj[key] = this.inline(v, le);
        this.next();
      }
      if (this.ls >= 0 && this.ind > indent) throw BAIL; // a continuation line, or bad indentation
    }
    return obj;
  }

  /** A one-line flow mapping as the whole document: `{kind: Pod, metadata: {name: a}}`. */
  flowMapping(): Record<string, unknown> {
    const v = this.inline(this.cs, this.le) as Record<string, unknown>;
    this.next();
    return v;
  }

  /** A block node at the current line, which is indented `indent`. */
  private block(indent: number): unknown {
    return this.isDash() ? this.sequence(indent) : this.mapping(indent);
  }

  private isDash(): boolean {
    return this.t.charCodeAt(this.cs) === DASH && (this.cs + 1 === this.le || this.t.charCodeAt(this.cs + 1) === SPACE);
  }

  /** A block sequence whose dashes are at column `indent`. */
  private sequence(indent: number): unknown[] {
    const t = this.t;
    const items: unknown[] = [];
    while (this.ls >= 0 && this.ind === indent && this.isDash()) {
      let c = this.cs + 1;
      while (c < this.le && t.charCodeAt(c) === SPACE) c++;
      if (c >= this.le) {
        this.next();
        items.push(this.ls >= 0 && this.ind > indent ? this.block(this.ind) : null);
      } else if (this.startsEntry(c)) {
        // "- name: app": a mapping whose keys are at the column of "name".
        const column = c - this.ls;
        this.ind = column;
        this.cs = c;
        items.push(this.mapping(column));
      } else {
        if (t.charCodeAt(c) === DASH && (c + 1 === this.le || t.charCodeAt(c + 1) === SPACE)) throw BAIL; // "- - x"
        items.push(this.inline(c, this.le));
        this.next();
      }
      if (this.ls >= 0 && this.ind > indent) throw BAIL;
    }
    return items;
  }

  /** True when the text at c reads `key:` followed by a space or the end of the line. */
  private startsEntry(c: number): boolean {
    const t = this.t;
    let i = c;
    while (i < this.le && isKeyChar(t.charCodeAt(i))) i++;
    return i > c && t.charCodeAt(i) === COLON && (i + 1 === this.le || t.charCodeAt(i + 1) === SPACE);
  }

  /** A value written on the rest of a line, [a, e). */
  private inline(a: number, e: number): unknown {
    const t = this.t;
    const c = t.charCodeAt(a);
    if (c === 123 || c === 91) {
      const f = new FlowReader(t, a, e);
      const v = f.value();
      f.spaces();
      if (f.i !== e) throw BAIL;
      return v;
    }
    if (c === DQUOTE || c === SQUOTE) {
      const close = t.indexOf(c === DQUOTE ? '"' : "'", a + 1);
      if (close !== e - 1) throw BAIL; // not closed on this line, an escaped quote, or text after it
      const s = t.slice(a + 1, close);
      if (c === DQUOTE && s.indexOf('\\') >= 0) throw BAIL;
      return s;
    }
    if (isIndicator(c) || (c === DASH && (a + 1 === e || t.charCodeAt(a + 1) === SPACE))) throw BAIL;
    const s = t.slice(a, e);
    // A comment after the value, a nested "key: value", or a key with no value: js-yaml's.
    if (s.indexOf(' #') >= 0 || s.indexOf(': ') >= 0 || s.charCodeAt(s.length - 1) === COLON) throw BAIL;
    return plainValue(s);
  }
}

/** One-line flow collections: `{a: b, c: [d, e]}`. */
class FlowReader {
  constructor(
    private readonly t: string,
    public i: number,
    private readonly e: number,
  ) {}

  spaces(): void {
    while (this.i < this.e && this.t.charCodeAt(this.i) === SPACE) this.i++;
  }

  value(): unknown {
    this.spaces();
    if (this.i >= this.e) throw BAIL;
    const c = this.t.charCodeAt(this.i);
    if (c === 123) return this.map();
    if (c === 91) return this.seq();
    return this.scalar(false);
  }

  private map(): Record<string, unknown> {
    const t = this.t;
    const obj: Record<string, unknown> = {};
    this.i++;
    this.spaces();
    if (t.charCodeAt(this.i) === 125) {
      this.i++;
      return obj;
    }
    for (;;) {
      this.spaces();
      let key: string;
      if (t.charCodeAt(this.i) === DQUOTE) {
        key = this.scalar(true) as string;
        if (key === '__proto__') throw BAIL;
      } else {
        const k0 = this.i;
        while (this.i < this.e && isKeyChar(t.charCodeAt(this.i))) this.i++;
        if (this.i === k0) throw BAIL;
        key = checkKey(t.slice(k0, this.i));
      }
      if (t.charCodeAt(this.i) !== COLON || t.charCodeAt(this.i + 1) !== SPACE) throw BAIL;
      this.i += 2;
      if (Object.prototype.hasOwnProperty.call(obj, key)) throw BAIL;
      obj[key] = this.value();
      this.spaces();
      const c = t.charCodeAt(this.i++);
      if (c === 125) return obj;
      if (c !== 44) throw BAIL;
    }
  }

  private seq(): unknown[] {
    const t = this.t;
    const items: unknown[] = [];
    this.i++;
    this.spaces();
    if (t.charCodeAt(this.i) === 93) {
      this.i++;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.spaces();
      const c = t.charCodeAt(this.i++);
      if (c === 93) return items;
      if (c !== 44) throw BAIL;
    }
  }

  /** A scalar inside a flow collection: it ends at `,`, `]` or `}`. */
  private scalar(quotedOnly: boolean): unknown {
    const t = this.t;
    const c = t.charCodeAt(this.i);
    if (c === DQUOTE || c === SQUOTE) {
      const close = t.indexOf(c === DQUOTE ? '"' : "'", this.i + 1);
      if (close < 0 || close >= this.e) throw BAIL;
      const s = t.slice(this.i + 1, close);
      if (c === DQUOTE && s.indexOf('\\') >= 0) throw BAIL;
      if (c === SQUOTE && t.charCodeAt(close + 1) === SQUOTE) throw BAIL; // '' escape
      this.i = close + 1;
      return s;
    }
    if (quotedOnly || isIndicator(c)) throw BAIL;
    if (c === DASH) {
      const d = t.charCodeAt(this.i + 1);
      if (this.i + 1 >= this.e || d === SPACE || d === 44 || d === 93 || d === 125) throw BAIL; // "-" alone
    }
    const a = this.i;
    let i = a;
    for (; i < this.e; i++) {
      const d = t.charCodeAt(i);
      if (d === 44 || d === 93 || d === 125) break;
      // ':' ends a key in flow context, '#' may start a comment, brackets nest: js-yaml's.
      if (d === COLON || d === HASH || d === 91 || d === 123 || d === DQUOTE || d === SQUOTE) throw BAIL;
    }
    let z = i;
    while (z > a && t.charCodeAt(z - 1) === SPACE) z--;
    if (z === a) throw BAIL;
    this.i = i;
    return plainValue(t.slice(a, z));
  }
}
