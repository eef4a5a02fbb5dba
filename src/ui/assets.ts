// The dashboard's static files, read once at start into memory (with their gzip form and an
// ETag): the page, its script and style from src/ui/assets/, and uPlot from its npm package.
// Nothing is fetched from the network at run time. Every response carries the headers below.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * Only this origin's scripts, styles and connections; no inline code, no frames, no forms
 * posting elsewhere. uPlot sets styles through the CSSOM, which style-src does not restrict.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const ASSETS_DIR = fileURLToPath(new URL('../../../src/ui/assets/', import.meta.url));
const require = createRequire(import.meta.url);

const FILES: Record<string, { file: () => string; type: string }> = {
  '/ui/': { file: () => ASSETS_DIR + 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: () => ASSETS_DIR + 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/app.css': { file: () => ASSETS_DIR + 'app.css', type: 'text/css; charset=utf-8' },
  '/ui/uplot.js': { file: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/ui/uplot.css': { file: () => require.resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export function loadAssets(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(file());
    out.set(path, { type, body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return out;
}

export function serveAsset(a: Asset, req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': a.type, ETag: a.etag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  res.writeHead(200, { ...headers, ...(gz ? { 'Content-Encoding': 'gzip' } : {}), 'Content-Length': String(gz ? a.gzip.length : a.body.length) });
  res.end(req.method === 'HEAD' ? undefined : gz ? a.gzip : a.body);
}

/** A JSON answer with the dashboard's headers. */
export function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(text);
}
