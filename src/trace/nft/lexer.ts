// Splits nft text into words, strings and punctuation on demand, keeping line numbers and
// source offsets (rules are shown to the user exactly as written). Newlines are tokens: they
// end a command or a rule, like ';', except inside braces where the parser skips them.
// The bulk of a large ruleset — rule bodies and element lists — can be stepped over without
// being tokenized (skipStatement, skipBlock) and parsed later, only if a trace reaches it.
export const enum T {
  Word,
  Str,
  LBrace,
  RBrace,
  Comma,
  Semi,
  NL,
  EOF,
}

export interface Token {
  k: T;
  v: string;
  line: number;
  start: number;
  end: number;
}

/** A stretch of source stepped over: parsed later from here. */
export interface Span {
  start: number;
  end: number;
  line: number;
}

export class NftSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'NftSyntaxError';
  }
}

const SPACE = 1;
const PUNCT = 2;
const cls = new Uint8Array(128);
for (const c of ' \t\r\f\v') cls[c.charCodeAt(0)] = SPACE;
for (const c of '{},;"#\n') cls[c.charCodeAt(0)] = PUNCT;

export class Lexer {
  private pos: number;
  private line: number;
  private buf: Token[] = [];
  /** The token most recently consumed. */
  last: Token;

  constructor(
    readonly src: string,
    start = 0,
    private readonly end = src.length,
    line = 1,
  ) {
    this.pos = start;
    this.line = line;
    this.last = { k: T.EOF, v: '', line, start, end: start };
  }

  peek(k = 0): Token {
    while (this.buf.length <= k) this.buf.push(this.lex());
    return this.buf[k];
  }

  next(): Token {
    const t = this.buf.length > 0 ? this.buf.shift()! : this.lex();
    this.last = t;
    return t;
  }

  /** Steps over a rule: up to (not including) a newline or ';' outside braces, or a '}' closing an outer block. */
  skipStatement(): Span {
    this.rewind();
    const src = this.src;
    const start = this.pos;
    const line = this.line;
    let i = start;
    let depth = 0;
    let lines = 0;
    for (; i < this.end; i++) {
      const c = src.charCodeAt(i);
      if (c === 10) {
        if (depth === 0) break;
        lines++;
      } else if (c === 59 /* ; */) {
        if (depth === 0) break;
      } else if (c === 123) depth++;
      else if (c === 125) {
        if (depth === 0) break;
        depth--;
      } else if (c === 34) {
        const q = src.indexOf('"', i + 1);
        const nl = src.indexOf('\n', i + 1);
        if (q < 0 || q >= this.end || (nl >= 0 && nl < q)) throw new NftSyntaxError(line + lines, 'unterminated string');
        i = q;
      } else if (c === 35 /* # */) {
        const nl = src.indexOf('\n', i);
        i = (nl < 0 || nl > this.end ? this.end : nl) - 1;
      } else if (c === 92 && src.charCodeAt(i + 1) === 10) {
        i++;
        lines++;
      }
    }
    if (depth !== 0) throw new NftSyntaxError(line, 'unbalanced "{"');
    this.pos = i;
    this.line = line + lines;
    return { start, end: i, line };
  }

  /** Steps over a `{ … }` block (the next token must open it); returns the span inside the braces. */
  skipBlock(): Span {
    const open = this.next();
    if (open.k !== T.LBrace) throw new NftSyntaxError(open.line, `expected "{", found "${open.v}"`);
    this.rewind();
    // Fast path for plain element lists (no strings, comments or nested braces): let the
    // engine's indexOf find the end, which is what makes large rulesets cheap to step over.
    const close = this.src.indexOf('}', this.pos);
    if (close >= 0 && close < this.end) {
      const body = this.src.substring(this.pos, close);
      if (body.indexOf('"') < 0 && body.indexOf('{') < 0 && body.indexOf('#') < 0 && body.indexOf('\\') < 0) {
        const span = { start: this.pos, end: close, line: this.line };
        for (let nl = body.indexOf('\n'); nl >= 0; nl = body.indexOf('\n', nl + 1)) this.line++;
        this.pos = close + 1;
        this.last = { k: T.RBrace, v: '}', line: this.line, start: close, end: close + 1 };
        return span;
      }
    }
    const inner = this.skipStatement();
    // skipStatement stops at a newline or ';' at depth 0 too: continue through them.
    let span = inner;
    while (this.pos < this.end && this.src.charCodeAt(this.pos) !== 125) {
      if (this.src.charCodeAt(this.pos) === 10) this.line++;
      this.pos++;
      const more = this.skipStatement();
      span = { start: inner.start, end: more.end, line: inner.line };
    }
    if (this.pos >= this.end) throw new NftSyntaxError(open.line, 'missing "}"');
    this.pos++; // the closing brace
    this.last = { k: T.RBrace, v: '}', line: this.line, start: this.pos - 1, end: this.pos };
    return span;
  }

  /** Steps over blank lines, ';', comments and spaces; returns where the next token starts (or the end). */
  skipBlank(): number {
    this.rewind();
    const src = this.src;
    let i = this.pos;
    for (; i < this.end; i++) {
      const c = src.charCodeAt(i);
      if (c === 10) this.line++;
      else if (c === 35) {
        const nl = src.indexOf('\n', i);
        i = (nl < 0 || nl > this.end ? this.end : nl) - 1;
      } else if (c !== 59 && !(c < 128 && cls[c] === SPACE)) break;
    }
    this.pos = i;
    return i;
  }

  /** The line of the character at the current position (lookahead discarded). */
  currentLine(): number {
    this.rewind();
    return this.line;
  }

  /** Where the next token starts (lookahead discarded). */
  offset(): number {
    this.rewind();
    return this.pos;
  }

  /** Moves to `pos`, which must be at the start of a line after the current one (`lines` newlines later). */
  jump(pos: number, lines: number): void {
    this.rewind();
    this.pos = pos;
    this.line += lines;
  }

  private rewind(): void {
    if (this.buf.length > 0) {
      this.pos = this.buf[0].start;
      this.line = this.buf[0].line;
      this.buf = [];
    }
  }

  private lex(): Token {
    const src = this.src;
    const n = this.end;
    let i = this.pos;
    for (;;) {
      if (i >= n) {
        this.pos = i;
        return { k: T.EOF, v: '', line: this.line, start: n, end: n };
      }
      const c = src.charCodeAt(i);
      if (c < 128 && cls[c] === SPACE) {
        i++;
        continue;
      }
      if (c === 92 /* \ */ && src.charCodeAt(i + 1) === 10) {
        i += 2; // line continuation
        this.line++;
        continue;
      }
      if (c === 35 /* # */) {
        while (i < n && src.charCodeAt(i) !== 10) i++;
        continue;
      }
      break;
    }
    const line = this.line;
    const c = src.charCodeAt(i);
    let tok: Token;
    switch (c) {
      case 10:
        this.line++;
        tok = { k: T.NL, v: '\n', line, start: i, end: i + 1 };
        break;
      case 123:
        tok = { k: T.LBrace, v: '{', line, start: i, end: i + 1 };
        break;
      case 125:
        tok = { k: T.RBrace, v: '}', line, start: i, end: i + 1 };
        break;
      case 44:
        tok = { k: T.Comma, v: ',', line, start: i, end: i + 1 };
        break;
      case 59:
        tok = { k: T.Semi, v: ';', line, start: i, end: i + 1 };
        break;
      case 34: {
        let j = i + 1;
        while (j < n && src.charCodeAt(j) !== 34) {
          if (src.charCodeAt(j) === 10) throw new NftSyntaxError(line, 'unterminated string');
          j++;
        }
        if (j >= n) throw new NftSyntaxError(line, 'unterminated string');
        tok = { k: T.Str, v: src.slice(i + 1, j), line, start: i, end: j + 1 };
        break;
      }
      default: {
        let j = i;
        while (j < n) {
          const d = src.charCodeAt(j);
          if (d < 128 && cls[d] !== 0) break;
          j++;
        }
        tok = { k: T.Word, v: src.slice(i, j), line, start: i, end: j };
      }
    }
    this.pos = tok.end;
    return tok;
  }
}
