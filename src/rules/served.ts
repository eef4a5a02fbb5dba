// What /rules sends, made once per applied ruleset and kept until the next one: the body
// (plain text or JSON) and its gzip form. Rendering a 20,000-Service ruleset costs most of a
// second of CPU; done per request, twenty parallel requests held the event loop (and with it
// /healthz and every userspace connection) for seconds and doubled memory. Compression runs
// on libuv's thread pool, not on the event loop. Only the latest ruleset is kept.
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { AppliedRuleset } from './store.js';

const gzipAsync = promisify(gzip);

export type Variant = 'text' | 'json';

interface Bodies {
  ruleset: AppliedRuleset;
  rendered?: string;
  plain: Partial<Record<Variant, Buffer>>;
  gzipped: Partial<Record<Variant, Promise<Buffer>>>;
}

export class ServedRuleset {
  private bodies: Bodies | null = null;

  constructor(private readonly build: (r: AppliedRuleset, v: Variant, rendered: string) => string) {}

  /** The body of variant v for ruleset r, gzipped when asked; built once per ruleset. */
  async body(r: AppliedRuleset, v: Variant, gzipped: boolean): Promise<Buffer> {
    if (this.bodies?.ruleset !== r) this.bodies = { ruleset: r, plain: {}, gzipped: {} };
    const b = this.bodies;
    const plain = (b.plain[v] ??= Buffer.from(this.build(r, v, (b.rendered ??= r.render())), 'utf8'));
    if (!gzipped) return plain;
    return (b.gzipped[v] ??= gzipAsync(plain, { level: 6 }));
  }
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
