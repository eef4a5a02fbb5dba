// The token helpers every nft parser shares: peek, expect, fail with the line.
import { Lexer, NftSyntaxError, T, type Span, type Token } from './lexer.js';

export class TokenReader {
  protected readonly lx: Lexer;

  constructor(
    protected readonly src: string,
    span?: Span,
  ) {
    this.lx = new Lexer(src, span?.start ?? 0, span?.end ?? src.length, span?.line ?? 1);
  }

  protected get tok(): Token {
    return this.lx.peek();
  }

  protected kind(): T {
    return this.lx.peek().k;
  }

  protected fail(reason: string, t: Token = this.tok): never {
    throw new NftSyntaxError(t.line, reason);
  }

  protected isWord(v?: string): boolean {
    const t = this.tok;
    return t.k === T.Word && (v === undefined || t.v === v);
  }

  protected word(what: string): string {
    const t = this.tok;
    if (t.k !== T.Word) this.fail(`expected ${what}, found ${describe(t)}`);
    this.lx.next();
    return t.v;
  }

  protected expectWord(v: string): void {
    if (!this.isWord(v)) this.fail(`expected "${v}", found ${describe(this.tok)}`);
    this.lx.next();
  }

  protected expect(k: T, what: string): Token {
    const t = this.tok;
    if (t.k !== k) this.fail(`expected ${what}, found ${describe(t)}`);
    this.lx.next();
    return t;
  }

  protected string(what: string): string {
    const t = this.tok;
    if (t.k === T.Str || t.k === T.Word) {
      this.lx.next();
      return t.v;
    }
    return this.fail(`expected ${what}, found ${describe(t)}`);
  }

  protected skipNL(): void {
    while (this.kind() === T.NL) this.lx.next();
  }

  protected atEnd(): boolean {
    const k = this.kind();
    return k === T.NL || k === T.Semi || k === T.RBrace || k === T.EOF;
  }

  protected endStatement(): void {
    const k = this.kind();
    if (k === T.NL || k === T.Semi) this.lx.next();
    else if (k !== T.RBrace && k !== T.EOF) this.fail(`unexpected ${describe(this.tok)}`);
  }
}

export function describe(t: Token): string {
  switch (t.k) {
    case T.EOF:
      return 'end of input';
    case T.NL:
      return 'end of line';
    case T.Str:
      return `"${t.v}"`;
    default:
      return `"${t.v}"`;
  }
}
