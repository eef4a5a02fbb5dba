// Splits nft text into words, strings and punctuation, keeping line numbers and source
// offsets (rules are shown to the user exactly as written). Newlines are tokens: they end a
// command or a rule, like ';', except inside braces of element lists where the parser skips them.
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

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const n = src.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c < 128 && cls[c] === SPACE) {
      i++;
      continue;
    }
    if (c === 92 /* \ */ && src.charCodeAt(i + 1) === 10) {
      i += 2; // line continuation
      line++;
      continue;
    }
    switch (c) {
      case 10:
        out.push({ k: T.NL, v: '\n', line, start: i, end: i + 1 });
        line++;
        i++;
        continue;
      case 35 /* # */: {
        while (i < n && src.charCodeAt(i) !== 10) i++;
        continue;
      }
      case 123:
        out.push({ k: T.LBrace, v: '{', line, start: i, end: ++i });
        continue;
      case 125:
        out.push({ k: T.RBrace, v: '}', line, start: i, end: ++i });
        continue;
      case 44:
        out.push({ k: T.Comma, v: ',', line, start: i, end: ++i });
        continue;
      case 59:
        out.push({ k: T.Semi, v: ';', line, start: i, end: ++i });
        continue;
      case 34 /* " */: {
        const start = i++;
        while (i < n && src.charCodeAt(i) !== 34) {
          if (src.charCodeAt(i) === 10) throw new NftSyntaxError(line, 'unterminated string');
          i++;
        }
        if (i >= n) throw new NftSyntaxError(line, 'unterminated string');
        i++;
        out.push({ k: T.Str, v: src.slice(start + 1, i - 1), line, start, end: i });
        continue;
      }
    }
    const start = i;
    while (i < n) {
      const d = src.charCodeAt(i);
      if (d < 128 && cls[d] !== 0) break;
      i++;
    }
    out.push({ k: T.Word, v: src.slice(start, i), line, start, end: i });
  }
  out.push({ k: T.EOF, v: '', line, start: n, end: n });
  return out;
}
