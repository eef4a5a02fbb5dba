// GET /rules on the metrics server: the ruleset last applied and when (what upstream issue
// 74677 asks kube-proxy for). Plain text by default; `?format=json` adds what
// `kproxy trace --live` needs to trace against it (the node's addresses).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../metrics/server.js';
import { Concurrency, ServedRuleset, type Framing, type Variant } from './served.js';
import type { AppliedRuleset, RulesetStore } from './store.js';

/** Requests served at once; more get 503 (the body is several MB at 20,000 Services). */
export const RULES_CONCURRENCY = 4;

export interface RulesPageJSON {
  mode: AppliedRuleset['mode'];
  appliedAt: string;
  generation: number;
  node: string;
  nodeAddresses: string[];
  ruleset: string;
}

export function rulesRoute(store: RulesetStore, opts: { concurrency?: number; served?: ServedRuleset } = {}): Route {
  const served = opts.served ?? new ServedRuleset(frame);
  const inFlight = new Concurrency(opts.concurrency ?? RULES_CONCURRENCY);
  return async (req, res) => {
    if (!inFlight.enter()) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' }).end(`busy: ${inFlight.limit} /rules requests are being answered; try again\n`);
      return;
    }
    let left = false;
    const leave = () => {
      if (!left) inFlight.leave();
      left = true;
    };
    res.on('close', leave);
    try {
      await serve(store, served, req, res);
    } finally {
      if (res.writableFinished) leave();
    }
  };
}

async function serve(store: RulesetStore, served: ServedRuleset, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const r = store.current();
  if (!r) {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('no ruleset has been applied yet\n');
    return;
  }
  const variant: Variant = new URL(req.url ?? '/', 'http://x').searchParams.get('format') === 'json' ? 'json' : 'text';
  const gzipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = await served.body(r, variant, gzipped);
  const headers: Record<string, string | number> = {
    'Content-Type': variant === 'json' ? 'application/json' : 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    Vary: 'Accept-Encoding',
    // Which ruleset this is (the one current when the request arrived, even if a sync
    // published another while it was rendered); the text's first line says it too.
    'X-Ruleset-Generation': r.generation,
  };
  if (variant === 'text') headers['Last-Modified'] = r.appliedAt.toUTCString();
  if (gzipped) headers['Content-Encoding'] = 'gzip';
  res.writeHead(200, headers);
  for (const p of body.parts) res.write(p);
  res.end();
}

/**
 * The page around the ruleset text. JSON: the text is escaped chunk by chunk, which equals
 * escaping it whole (chunks are cut between whole pieces of text, never inside a character).
 */
function frame(r: AppliedRuleset, variant: Variant): Framing {
  if (variant === 'json') {
    const body: RulesPageJSON = {
      mode: r.mode,
      appliedAt: r.appliedAt.toISOString(),
      generation: r.generation,
      node: r.node,
      nodeAddresses: [...r.nodeAddresses],
      ruleset: '',
    };
    const whole = JSON.stringify(body); // ends with "ruleset":""}
    return { head: whole.slice(0, -2), piece: (c) => JSON.stringify(c).slice(1, -1), tail: '"}' };
  }
  const header = `# kproxy ${r.mode} ruleset, applied ${r.appliedAt.toISOString()} (generation ${r.generation}, node ${r.node}; as applied)\n`;
  return { head: header, piece: null, tail: '' };
}

/** The bodies /rules serves, for a caller that wants to watch them (tests). */
export const servedRuleset = (budgetMs?: number) => new ServedRuleset(frame, budgetMs);
