// Writes to the API server (the status of Services, the leader Lease) with the credentials
// of a KubeConfig. Reads go through the source's list/watch (src/sources/kube/).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export class APIError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export async function requestJSON(kc: KubeConfig, method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown, contentType = 'application/json'): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig: no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const opts: https.RequestOptions = { method, headers: { Accept: 'application/json', ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}) } };
  await kc.applyToHTTPSOptions(opts);
  const request = url.protocol === 'http:' ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const req = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const code = res.statusCode ?? 0;
        let parsed: unknown = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON
        }
        if (code < 200 || code >= 300) {
          const message = (parsed as { message?: string } | null)?.message ?? res.statusMessage ?? '';
          reject(new APIError(code, `${method} ${path}: ${code} ${message}`));
          return;
        }
        resolve(parsed);
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
