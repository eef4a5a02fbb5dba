// The dashboard's live stream: Server-Sent Events. A new client gets one `reset` event (every
// row, the health status and the charts' hour), then only what changes: `patch` (rows upserted
// and removed), `status` after each sync, `point` for each chart sample. The stream is gzip'd
// when the browser accepts it (10,000 rows are ~3 MB of JSON, a tenth of that compressed),
// flushed after every event so nothing waits in the compressor.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGzip, constants, type Gzip } from 'node:zlib';

/** Browsers reconnect on their own; a few tabs is the expected use, not hundreds. */
export const MAX_CLIENTS = 32;
const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED = 8 << 20;

interface Client {
  res: ServerResponse;
  out: Gzip | ServerResponse;
}

export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly headers: Record<string, string>) {
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Opens a stream and sends it `first` (the reset event). */
  open(req: IncomingMessage, res: ServerResponse, first: () => string): void {
    if (this.clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { ...this.headers, 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '10' }).end(`too many dashboard streams open (${MAX_CLIENTS})\n`);
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(200, {
      ...this.headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
    });
    let out: Gzip | ServerResponse = res;
    if (gzip) {
      const z = createGzip({ level: 6 });
      z.pipe(res);
      out = z;
    }
    const client: Client = { res, out };
    this.clients.add(client);
    const close = () => {
      if (!this.clients.delete(client)) return;
      if (client.out !== res) (client.out as Gzip).end();
      res.end();
    };
    req.once('close', close);
    res.once('error', close);
    this.send(client, first());
  }

  /** `event: name` with `data` as JSON, to every client. */
  broadcast(name: string, data: unknown, id?: number): void {
    if (this.clients.size === 0) return;
    this.write(event(name, data, id));
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of [...this.clients]) {
      this.clients.delete(c);
      c.res.end();
    }
  }

  private write(text: string): void {
    for (const c of this.clients) this.send(c, text);
  }

  private send(c: Client, text: string): void {
    // A tab that stopped reading (asleep, stuck) is dropped rather than buffered without bound;
    // its EventSource reconnects and starts again from a reset.
    if (c.res.writableLength > MAX_BUFFERED) {
      this.clients.delete(c);
      c.res.destroy();
      return;
    }
    c.out.write(text);
    if (c.out !== c.res) (c.out as Gzip).flush(constants.Z_SYNC_FLUSH);
  }
}

/** One SSE event; JSON never contains a raw newline, so one data line suffices. */
export function event(name: string, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ''}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
