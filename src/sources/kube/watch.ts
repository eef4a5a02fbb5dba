// The watch half: one long GET of chunked JSON events, with what client-go's reflector adds
// to every watch request: allowWatchBookmarks (so the resourceVersion to resume from stays
// fresh on quiet resources), a server-side timeout of 5–10 minutes (so a connection that died
// silently is replaced), and the rate limiter. It also tells its owner when a watch is
// established, which is how the informer learns that the list before it has been delivered
// and that the API server is reachable again.
//
// It replaces client-node's Watch.watch (same signature, so client-node's ListWatch drives
// it) because that one reads lines without a length limit and hands any JSON on: a line that
// never ends grew memory until the process died, and an event shaped wrongly crashed the
// informer. Here a line longer than maxLineBytes ends the watch with an error (the informer
// retries with backoff), and every event is checked (shape.ts) before the informer sees it.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { Watch } from './client-node.js';
import type { TokenBucket } from './ratelimit.js';
import { watchEventProblem } from './shape.js';

export interface WatchHooks {
  /** A watch request got its 200: events flow from here on. */
  established(): void;
  /** Just before a watch request goes out (the preceding list, if any, is delivered). */
  starting(): void;
  /** An event was refused (its shape is wrong); it is skipped. */
  refused?(problem: string): void;
}

/** One event line may hold one object; Kubernetes keeps objects under 1.5 MiB in etcd. */
export const MAX_WATCH_LINE_BYTES = 16 * 1024 * 1024;

type Params = Record<string, string | number | boolean | undefined>;
// client-node types watch payloads as `any`; the informer treats them as plain JSON.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Callback = (phase: string, apiObj: any, watchObj?: any) => void;
type Done = (err: any) => void;
/* eslint-enable @typescript-eslint/no-explicit-any */

export class ReflectorWatch extends Watch {
  constructor(
    private readonly kc: KubeConfig,
    private readonly limiter: TokenBucket,
    private readonly hooks: WatchHooks,
    private readonly timeoutSeconds: () => number = () => 300 + Math.floor(Math.random() * 300),
    private readonly kind = '',
    private readonly maxLineBytes = MAX_WATCH_LINE_BYTES,
  ) {
    super(kc);
  }

  override async watch(path: string, queryParams: Params, callback: Callback, done: Done): Promise<AbortController> {
    this.hooks.starting();
    await this.limiter.take();
    const controller = new AbortController();
    let finished = false;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      controller.abort();
      done(err ?? null);
    };
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) {
      finish(new Error('kubeconfig: no current cluster'));
      return controller;
    }
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    const params: Params = { ...queryParams, watch: true, allowWatchBookmarks: true, timeoutSeconds: this.timeoutSeconds() };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: https.RequestOptions = { headers: { Accept: 'application/json' }, signal: controller.signal };
    await this.kc.applyToHTTPSOptions(opts);
    const get = url.protocol === 'http:' ? http.get : https.get;
    await new Promise<void>((established) => {
      const req = get(url, opts, (res) => {
        if (res.statusCode !== 200) {
          const err = Object.assign(new Error(`watch ${path}: ${res.statusCode} ${res.statusMessage ?? ''}`), { statusCode: res.statusCode });
          res.resume();
          finish(err);
          established();
          return;
        }
        // A connection that goes quiet for longer than the server-side timeout is dead.
        res.socket.setKeepAlive(true, 30_000);
        established();
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        res.on('data', (chunk: Buffer) => {
          let start = 0;
          for (let nl = chunk.indexOf(10); nl >= 0 && !finished; nl = chunk.indexOf(10, start)) {
            pending.push(chunk.subarray(start, nl));
            this.line(Buffer.concat(pending).toString('utf8'), callback);
            pending = [];
            pendingBytes = 0;
            start = nl + 1;
          }
          if (finished || start >= chunk.length) return;
          pendingBytes += chunk.length - start;
          if (pendingBytes > this.maxLineBytes) {
            finish(new Error(`watch ${path}: an event line longer than ${this.maxLineBytes} bytes; the watch is restarted`));
            return;
          }
          pending.push(chunk.subarray(start));
        });
        res.on('end', () => finish(null));
        res.on('close', () => finish(null));
        res.on('error', (e) => finish(e));
      });
      req.on('error', (e) => {
        finish(controller.signal.aborted && !finished ? null : e);
        established();
      });
    });
    if (!finished) this.hooks.established();
    return controller;
  }

  private line(text: string, callback: Callback): void {
    if (text.trim() === '') return;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      this.hooks.refused?.(`a watch line that is not JSON (${text.length} bytes)`);
      return;
    }
    const problem = watchEventProblem(event, this.kind);
    if (problem) {
      this.hooks.refused?.(problem);
      return;
    }
    const e = event as { type: string; object: unknown };
    callback(e.type, e.object, e);
  }
}
