// The watch half: client-node's Watch (chunked JSON events over one long GET), with what
// client-go's reflector adds to every watch request: allowWatchBookmarks (so the
// resourceVersion to resume from stays fresh on quiet resources), a server-side timeout
// of 5–10 minutes (so a connection that died silently is replaced), and the rate limiter.
// It also tells its owner when a watch is established, which is how the informer learns
// that the list before it has been delivered and that the API server is reachable again.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { TokenBucket } from './ratelimit.js';

export interface WatchHooks {
  /** A watch request got its 200: events flow from here on. */
  established(): void;
  /** Just before a watch request goes out (the preceding list, if any, is delivered). */
  starting(): void;
}

type Params = Record<string, string | number | boolean | undefined>;
// client-node types watch payloads as `any`; the informer treats them as plain JSON.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Callback = (phase: string, apiObj: any, watchObj?: any) => void;
type Done = (err: any) => void;
/* eslint-enable @typescript-eslint/no-explicit-any */

export class ReflectorWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly limiter: TokenBucket,
    private readonly hooks: WatchHooks,
    private readonly timeoutSeconds: () => number = () => 300 + Math.floor(Math.random() * 300),
  ) {
    super(config);
  }

  override async watch(path: string, queryParams: Params, callback: Callback, done: Done): Promise<AbortController> {
    this.hooks.starting();
    await this.limiter.take();
    let failed = false;
    const params: Params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.timeoutSeconds() };
    const controller = await super.watch(path, params, callback, (err) => {
      if (err) failed = true;
      done(err);
    });
    if (!failed) this.hooks.established();
    return controller;
  }
}
