// Churn against a real list/watch API server (the one the kube source tests use): Services
// added and removed, watches cut and history expired so that kproxy re-lists, the re-list
// answered with garbage (a list that is not a list, an item without metadata, HTML, a
// truncated body, a 500), and malformed watch events. Beside it an `nft` that sometimes fails
// and sometimes hangs (a wrapper on kproxy's PATH reading a mode file).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { TestAPIServer } from '../../src/bench/apiserver.js';
import { service, slice } from '../../test/sources/kube/objects.js';

const GARBAGE: ((res: ServerResponse) => void)[] = [
  (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'),
  (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('[]'),
  (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [{ spec: {} }] })),
  (res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>'),
  (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"kind":"ServiceList","items":[{"metadata":{"na'),
  (res) => res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"kind":"Status","code":500}'),
  (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'ServiceList', apiVersion: 'v1', metadata: null, items: null })),
];

const WATCH_GARBAGE = ['{"type":"ADDED","object":null}', '{"type":"DELETED","object":{}}', '[{"type":"ADDED"}]', '{"type":"MODIFIED","object":"x"}', 'not json {'];

export type NftMode = 'ok' | 'fail' | 'hang';

export class ApiChurn {
  readonly api = new TestAPIServer({ historyLimit: 200 });
  relists = 0;
  garbageLists = 0;
  serviceEdits = 0;
  nftFailures = 0;
  nftHangs = 0;
  private n = 0;
  private garbageNext = 0;

  constructor(
    private readonly goodIP: string,
    private readonly backend: string,
  ) {}

  async start(): Promise<void> {
    await this.api.start();
    this.api.apply(service('soak', 'good', this.goodIP));
    this.api.apply(slice('soak', 'good', [this.backend]));
    // Answers the first list after each forced re-list with garbage; the retry gets the truth.
    this.api.listHook = (kind, _query, res) => {
      if (kind !== 'Service' || this.garbageNext === 0) return false;
      this.garbageNext--;
      this.garbageLists++;
      GARBAGE[this.garbageLists % GARBAGE.length](res);
      return true;
    };
  }

  /** One Service added or removed (its own ClusterIP, no endpoints half the time). */
  editService(): void {
    const i = this.n++ % 30;
    if (this.api.get('Service', 'soak', `s${i}`)) this.api.remove('Service', 'soak', `s${i}`);
    else {
      this.api.apply(service('soak', `s${i}`, `127.96.61.${i + 1}`));
      if (i % 2 === 0) this.api.apply(slice('soak', `s${i}`, [this.backend], { name: `s${i}-abcde` }));
    }
    this.serviceEdits++;
  }

  /** Forces a re-list: history expired and watches cut, and the first re-list answered with garbage. */
  relist(): void {
    this.garbageNext = 1;
    for (const line of WATCH_GARBAGE) this.api.sendRaw('Service', line + '\n');
    this.api.expire();
    this.api.cutWatches();
    this.relists++;
  }

  stop(): Promise<void> {
    return this.api.stop();
  }
}

/**
 * A folder holding an `nft` for kproxy's PATH: it runs the real nft unless the mode file says
 * "fail" (exit 1 with a message) or "hang" (sleeps until kproxy's deadline kills it).
 */
export function nftWrapper(dir: string, realNft: string): { bin: string; setMode: (m: NftMode) => void } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const modeFile = join(dir, 'nft-mode');
  writeFileSync(modeFile, 'ok');
  writeFileSync(
    join(bin, 'nft'),
    `#!/bin/sh\ncase "$(cat '${modeFile}' 2>/dev/null)" in\n  fail) echo "nft: injected failure" >&2; exit 1 ;;\n  hang) exec sleep 600 ;;\nesac\nexec '${realNft}' "$@"\n`,
  );
  chmodSync(join(bin, 'nft'), 0o755);
  return { bin, setMode: (m) => writeFileSync(modeFile, m) };
}
