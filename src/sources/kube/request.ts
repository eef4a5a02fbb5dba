// One GET against the API server with the credentials of a KubeConfig (token, client
// certificate, CA), answered as the JSON the server sent: no typed deserialisation, so
// the objects reach the model exactly as they would from a manifest file.
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node';
import { ListItemSplitter, MalformedList } from './list-stream.js';

export class APIStatusError extends Error {
  constructor(
    readonly statusCode: number,
    readonly path: string,
    message: string,
  ) {
    super(`GET ${path}: ${statusCode} ${message}`);
  }
  /** client-node's ListWatch re-lists on `statusCode === 410`. */
  get code(): number {
    return this.statusCode;
  }
}

/**
 * The most a reply may hold. The first list is answered in one piece from the API server's
 * watch cache, so this must hold every object of a kind. getJSON holds a reply as one string,
 * and 512 MiB is near the longest string V8 can make; getList holds no more than one item at
 * a time, and the limit only stops a reply that never ends.
 */
export const MAX_REPLY_BYTES = 256 * 1024 * 1024;

/** Where a GET of `path` goes, with the kubeconfig's credentials and TLS settings applied. */
async function target(kc: KubeConfig, path: string) {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  const opts: https.RequestOptions = { headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  return { url, opts, get: url.protocol === 'http:' ? http.get : https.get };
}

export async function getJSON(kc: KubeConfig, path: string, o: { timeoutMs?: number; maxBytes?: number } = {}): Promise<unknown> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const maxBytes = o.maxBytes ?? MAX_REPLY_BYTES;
  const { url, opts, get } = await target(kc, path);
  return new Promise((resolve, reject) => {
    const req = get(url, opts, (res) => {
      // Each piece is decoded as it arrives, so its buffer is garbage at once: a list of
      // 100,000 endpoints (tens of MB) is held as text once, instead of as the pieces, their
      // concatenation and the text.
      const decoder = new StringDecoder('utf8');
      const parts: string[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy(new Error(`GET ${path}: the reply is larger than ${maxBytes} bytes; refused`));
          return;
        }
        parts.push(decoder.write(c));
      });
      res.on('error', reject);
      res.on('end', () => {
        parts.push(decoder.end());
        const text = parts.length === 1 ? parts[0] : parts.join('');
        parts.length = 0;
        if (res.statusCode !== 200) {
          let message = res.statusMessage ?? '';
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            // not a Status object: keep the status line
          }
          reject(new APIStatusError(res.statusCode ?? 0, path, message));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new Error(`GET ${path}: response is not JSON: ${(e as Error).message}`));
        }
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** The most of an error reply's body kept to read its Status message. */
const MAX_STATUS_BYTES = 64 * 1024;

/**
 * A GET of a list, read as it streams (list-stream.ts): each element of `items` goes to
 * onItem as its JSON text the moment its last byte arrives, and the reply resolves to the
 * list's skeleton (kind, apiVersion, metadata; `items` empty when they were streamed). What
 * onItem throws, a malformed or truncated reply, or one over maxBytes rejects it; items
 * handed on before that stay handed on.
 */
export async function getList(
  kc: KubeConfig,
  path: string,
  onItem: (json: string, index: number) => void,
  o: { timeoutMs?: number; maxBytes?: number; onItemsStart?: (head: unknown) => void } = {},
): Promise<unknown> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const maxBytes = o.maxBytes ?? MAX_REPLY_BYTES;
  const { url, opts, get } = await target(kc, path);
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      req.destroy();
      reject(e);
    };
    const req = get(url, opts, (res) => {
      let size = 0;
      if (res.statusCode !== 200) {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (size < MAX_STATUS_BYTES) parts.push(c);
          size += c.length;
        });
        res.on('end', () => {
          let message = res.statusMessage ?? '';
          try {
            message = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { message?: string }).message ?? message;
          } catch {
            // not a Status object: keep the status line
          }
          fail(new APIStatusError(res.statusCode ?? 0, path, message));
        });
        res.on('error', fail);
        return;
      }
      const splitter = new ListItemSplitter(onItem, o.onItemsStart);
      res.on('data', (c: Buffer) => {
        if (failed) return;
        size += c.length;
        if (size > maxBytes) return fail(new Error(`GET ${path}: the reply is larger than ${maxBytes} bytes; refused`));
        try {
          splitter.write(c);
        } catch (e) {
          // The splitter's own complaint is about the reply; anything else is onItem's.
          fail(e instanceof MalformedList ? new Error(`GET ${path}: response is not JSON: ${e.message}`) : (e as Error));
        }
      });
      res.on('error', fail);
      // A connection that ends before the reply does (no 'end'): the list is incomplete.
      res.on('close', () => {
        if (!res.complete) fail(new Error(`GET ${path}: the reply was cut off after ${size} bytes`));
      });
      res.on('end', () => {
        if (failed) return;
        try {
          const skeleton = splitter.end();
          failed = true; // settled
          resolve(skeleton);
        } catch (e) {
          fail(new Error(`GET ${path}: response is not JSON: ${(e as Error).message}`));
        }
      });
    });
    req.setTimeout(timeoutMs, () => fail(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', fail);
  });
}
