// A list reply read as it arrives: the elements of its top-level `items` array are cut out
// of the byte stream one by one and handed on as their own JSON text, so neither the whole
// reply (tens of MB at 100,000 endpoints) nor the whole parsed list is ever held. What is
// left — `{"kind":…,"apiVersion":…,"metadata":{…},"items":[]}` — is kept as the list's
// skeleton and parsed at the end.
//
// The scanner knows only what it needs to find element boundaries: strings (with escapes),
// nesting, and the commas between elements. Every element and the skeleton still go through
// JSON.parse, so whatever the scanner lets through unchecked (a bad number, a bad escape) is
// refused there. Bytes are scanned, not characters: every byte of a multi-byte UTF-8
// character is ≥ 0x80, so none can be taken for a quote, a bracket or a comma, and a chunk
// may end anywhere, even inside one.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

export class MalformedList extends Error {}

/** Where the scanner is inside the `items` array. */
const enum Items {
  /** Not inside it (before it, after it, or there is none). */
  Outside,
  /** Just after `[` or `,`: an element (or, after `[`, the closing `]`) comes next. */
  Element,
  /** Inside an element. */
  InElement,
  /** Just after an element: `,` or `]` comes next. */
  Separator,
}

export class ListItemSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Depth-1 (top-level object) bookkeeping: is the next string a key, and which key was last. */
  private expectKey = false;
  private key: number[] | null = null;
  private lastKey = '';
  private items: Items = Items.Outside;
  private itemsSeen = false;
  /** A second top-level `items` key would make the streamed items differ from JSON.parse's (the last key wins). */
  private itemsKeys = 0;
  /** An element whose value is a scalar (number, true, false, null) ends at a delimiter. */
  private scalarElement = false;
  private element: Buffer[] = [];
  private skeleton: Buffer[] = [];
  private count = 0;

  /**
   * onItem gets each element's JSON text, in order; onItemsStart gets, before the first of
   * them, what came before `items` (parsed, with `items: []`), so that a reply that is not
   * the list asked for is refused before any of its items is used. What either throws stops
   * the list.
   */
  constructor(
    private readonly onItem: (json: string, index: number) => void,
    private readonly onItemsStart?: (head: unknown) => void,
  ) {}

  /** Items handed on so far. */
  get itemCount(): number {
    return this.count;
  }

  write(chunk: Buffer): void {
    // [from, i) is the current run of bytes that belongs to the skeleton or to an element.
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (this.inString && this.key === null) {
        // Most bytes are inside strings: jump to the closing quote (the unescaped one).
        const q = this.closingQuote(chunk, i);
        if (q < 0) break;
        i = q;
      }
      const b = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) {
          this.inString = false;
          if (this.key) {
            this.lastKey = Buffer.from(this.key).toString('utf8');
            this.key = null;
            if (this.lastKey === 'items' && ++this.itemsKeys > 1) throw new MalformedList('the reply has two items keys');
          } else if (this.items === Items.InElement && this.depth === 2) {
            this.endElement(chunk, from, i + 1);
            from = i + 1;
          }
        } else if (this.key) this.key.push(b);
        continue;
      }
      if (this.items === Items.InElement && this.scalarElement) {
        if (b !== COMMA && b !== CLOSE_ARRAY && !isSpace(b)) continue;
        this.endElement(chunk, from, i);
        from = i;
      }
      if (isSpace(b)) continue;
      if (this.items === Items.Element && this.depth === 2 && b !== CLOSE_ARRAY) {
        // An element begins (the `[` before it went to the skeleton; commas and spaces go nowhere).
        from = i;
        this.items = Items.InElement;
        this.scalarElement = b !== OPEN_OBJECT && b !== OPEN_ARRAY && b !== QUOTE;
        if (b === COMMA) throw new MalformedList(`a missing element before a comma in items (element ${this.count})`);
      } else if (this.items === Items.Separator) {
        if (b === COMMA) {
          this.items = Items.Element;
          from = i + 1; // the comma between elements is not part of the skeleton
          continue;
        }
        if (b !== CLOSE_ARRAY) throw new MalformedList(`no comma after element ${this.count - 1} of items`);
      }
      switch (b) {
        case QUOTE:
          this.inString = true;
          if (this.depth === 1 && this.expectKey) {
            this.key = [];
            this.expectKey = false;
          }
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          this.depth++;
          if (this.depth === 1) this.expectKey = b === OPEN_OBJECT;
          else if (this.depth === 2 && b === OPEN_ARRAY && this.items === Items.Outside && this.lastKey === 'items' && !this.itemsSeen) {
            this.items = Items.Element;
            this.itemsSeen = true;
            this.flushSkeleton(chunk, from, i + 1);
            from = i + 1;
            if (this.onItemsStart) this.onItemsStart(this.parse(']}'));
          }
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          if (this.depth === 0) throw new MalformedList('a closing bracket without an opening one');
          if (this.depth === 2 && b === CLOSE_ARRAY && (this.items === Items.Element || this.items === Items.Separator)) {
            if (this.items === Items.Element && this.count > 0) throw new MalformedList('a comma after the last element of items');
            this.items = Items.Outside;
            from = i; // the `]` is the skeleton's
          }
          this.depth--;
          if (this.items === Items.InElement && this.depth === 2) {
            this.endElement(chunk, from, i + 1);
            from = i + 1;
          }
          break;
        case COMMA:
          if (this.depth === 1) this.expectKey = true;
          break;
      }
    }
    if (this.items === Items.InElement) this.element.push(chunk.subarray(from));
    else if (this.items !== Items.Element && this.items !== Items.Separator) this.flushSkeleton(chunk, from, chunk.length);
  }

  /** The reply is complete: the skeleton, parsed (its `items` is `[]` if they were streamed). */
  end(): unknown {
    if (this.inString || this.depth > 0 || this.items !== Items.Outside) {
      throw new MalformedList(`the reply ends in the middle (after ${this.count} items)`);
    }
    const skeleton = this.parse('');
    this.skeleton = [];
    return skeleton;
  }

  private parse(tail: string): unknown {
    try {
      return JSON.parse(Buffer.concat(this.skeleton).toString('utf8') + tail);
    } catch (e) {
      throw new MalformedList((e as Error).message);
    }
  }

  /**
   * The index of the quote that ends the current string, searching from `from`; -1 if the
   * chunk ends first (then `escaped` says whether its last byte escapes the next chunk's
   * first). A quote is escaped when an odd number of backslashes precede it; a backslash
   * left escaping from the previous chunk counts as one more in front.
   */
  private closingQuote(chunk: Buffer, from: number): number {
    let start = from;
    for (;;) {
      const q = chunk.indexOf(QUOTE, start);
      const end = q < 0 ? chunk.length : q;
      let k = end - 1;
      while (k >= start && chunk[k] === BACKSLASH) k--;
      let run = end - 1 - k;
      if (k < start && this.escaped) run++;
      if (q < 0) {
        this.escaped = run % 2 === 1;
        return -1;
      }
      this.escaped = false;
      if (run % 2 === 0) return q;
      start = q + 1; // an escaped quote: part of the string
    }
  }

  private endElement(chunk: Buffer, from: number, to: number): void {
    this.element.push(chunk.subarray(from, to));
    const bytes = this.element.length === 1 ? this.element[0] : Buffer.concat(this.element);
    this.element = [];
    this.items = Items.Separator;
    this.scalarElement = false;
    this.onItem(bytes.toString('utf8'), this.count++);
  }

  private flushSkeleton(chunk: Buffer, from: number, to: number): void {
    if (to > from) this.skeleton.push(Buffer.from(chunk.subarray(from, to))); // a copy: the chunk itself can go
  }
}
