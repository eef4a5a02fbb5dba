// GET /rules on the metrics server: the ruleset last applied and when (what upstream issue
// 74677 asks kube-proxy for). Plain text by default; `?format=json` adds what
// `kproxy trace --live` needs to trace against it (the node's addresses).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../metrics/server.js';
import type { AppliedRuleset, RulesetStore } from './store.js';

export interface RulesPageJSON {
  mode: AppliedRuleset['mode'];
  appliedAt: string;
  generation: number;
  node: string;
  nodeAddresses: string[];
  ruleset: string;
}

export function rulesRoute(store: RulesetStore): Route {
  return (req, res) => serve(store, req, res);
}

function serve(store: RulesetStore, req: IncomingMessage, res: ServerResponse): void {
  const r = store.current();
  if (!r) {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end('no ruleset has been applied yet\n');
    return;
  }
  const text = r.render();
  const json = new URL(req.url ?? '/', 'http://x').searchParams.get('format') === 'json';
  if (json) {
    const body: RulesPageJSON = {
      mode: r.mode,
      appliedAt: r.appliedAt.toISOString(),
      generation: r.generation,
      node: r.node,
      nodeAddresses: [...r.nodeAddresses],
      ruleset: text,
    };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    return;
  }
  const header = `# kproxy ${r.mode} ruleset, applied ${r.appliedAt.toISOString()} (generation ${r.generation}, node ${r.node}; as applied)\n`;
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Last-Modified': r.appliedAt.toUTCString() }).end(header + text);
}
