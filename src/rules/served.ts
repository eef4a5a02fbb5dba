// What /rules sends, made once per applied ruleset and kept until the next one: the body
// (plain text or JSON) and its gzip form. Rendering a 10,000-Service ruleset costs 0.2 s
// (nftables) to over a second (iptables) of CPU. It is shared: every request for the same
// ruleset waits on the one render. And it runs in slices (slices.ts), so that the event loop
// (the sync loop, /healthz, probes, userspace connections) is never held for more than a few
// milliseconds at a time by it. A request answers with the ruleset current when it arrived:
// a sync during a render starts a new render for later requests and leaves this one whole.
// The body is kept as the renderer's chunks, never joined into one string (joining 32 MB
// alone held the loop for 0.3 s). Compression runs on libuv's thread pool. Only the latest
// ruleset is kept.
import { createGzip } from 'node:zlib';
import { inSlices, SLICE_BUDGET_MS, type SliceStats } from './slices.js';
import type { AppliedRuleset } from './store.js';

export type Variant = 'text' | 'json';

/** A body as a list of buffers, written one after another. */
export interface Body {
  parts: readonly Buffer[];
  length: number;
}

/**
 * How a variant wraps the ruleset text: what comes before, each chunk as written (`piece`
 * null: as it is, bytes untouched), what comes after.
 */
export interface Framing {
  head: string;
  piece: ((chunk: string) => string) | null;
  tail: string;
}

type Chunk = string | Uint8Array;

interface Bodies {
  ruleset: AppliedRuleset;
  rendered?: Promise<Chunk[]>;
  plain: Partial<Record<Variant, Promise<Body>>>;
  gzipped: Partial<Record<Variant, Promise<Body>>>;
}

export class ServedRuleset {
  private bodies: Bodies | null = null;
  /** Renders started, and how often they handed the event loop back (tests read these). */
  readonly stats: SliceStats & { renders: number } = { renders: 0, pauses: 0 };

  constructor(
    private readonly frame: (r: AppliedRuleset, v: Variant) => Framing,
    private readonly budgetMs = SLICE_BUDGET_MS,
  ) {}

  /** The body of variant v for ruleset r, gzipped when asked; built once per ruleset. */
  body(r: AppliedRuleset, v: Variant, gzipped: boolean): Promise<Body> {
    if (this.bodies?.ruleset !== r) this.bodies = { ruleset: r, plain: {}, gzipped: {} };
    const b = this.bodies;
    const plain = once(b.plain, v, () => this.plainBody(b, v));
    return gzipped ? once(b.gzipped, v, () => plain.then(gzip)) : plain;
  }

  private async plainBody(b: Bodies, v: Variant): Promise<Body> {
    const text = await once(b, 'rendered', () => this.render(b.ruleset));
    const f = this.frame(b.ruleset, v);
    const parts: Buffer[] = [Buffer.from(f.head, 'utf8')];
    const piece = f.piece;
    if (piece === null) await inSlices(text, (c) => parts.push(bytesOf(c)), this.budgetMs, this.stats);
    else {
      // Bytes become text for the framing; a character cut between two chunks is kept whole.
      const utf8 = new TextDecoder('utf-8');
      const textOf = (c: Chunk) => (typeof c === 'string' ? c : utf8.decode(c, { stream: true }));
      await inSlices(text, (c) => parts.push(Buffer.from(piece(textOf(c)), 'utf8')), this.budgetMs, this.stats);
      const rest = utf8.decode();
      if (rest !== '') parts.push(Buffer.from(piece(rest), 'utf8'));
    }
    if (f.tail !== '') parts.push(Buffer.from(f.tail, 'utf8'));
    return { parts, length: parts.reduce((n, p) => n + p.length, 0) };
  }

  private async render(r: AppliedRuleset): Promise<Chunk[]> {
    this.stats.renders++;
    const out: Chunk[] = [];
    await inSlices(r.chunks ? r.chunks() : [r.render()], (c) => out.push(c), this.budgetMs, this.stats);
    return out;
  }
}

/** A chunk as bytes (a view, not a copy, when it is bytes already). */
const bytesOf = (c: Chunk): Buffer => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c.buffer, c.byteOffset, c.byteLength));

/** cache[key], made once and shared; a promise that fails is not kept (the next request tries again). */
function once<K extends string, T>(cache: Partial<Record<K, Promise<T>>>, key: K, make: () => Promise<T>): Promise<T> {
  const kept = cache[key];
  if (kept) return kept;
  const p = make();
  cache[key] = p;
  p.catch(() => {
    if (cache[key] === p) delete cache[key];
  });
  return p;
}

function gzip(body: Body): Promise<Body> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const z = createGzip({ level: 6 });
    z.on('data', (c: Buffer) => out.push(c));
    z.on('end', () => resolve({ parts: out, length: out.reduce((n, p) => n + p.length, 0) }));
    z.on('error', reject);
    for (const p of body.parts) z.write(p);
    z.end();
  });
}

/** Counts requests in flight; `enter()` is false when the limit is reached. */
export class Concurrency {
  private n = 0;
  constructor(readonly limit: number) {}
  enter(): boolean {
    if (this.n >= this.limit) return false;
    this.n++;
    return true;
  }
  leave(): void {
    this.n--;
  }
}
