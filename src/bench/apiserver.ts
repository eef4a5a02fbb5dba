// A small Kubernetes API server for tests and benchmarks: node:http on 127.0.0.1 speaking
// the real list/watch protocol for Services, EndpointSlices and Nodes — lists with a
// resourceVersion and limit/continue pages, `?watch=true` streams of chunked JSON events
// (ADDED, MODIFIED, DELETED, BOOKMARK when allowWatchBookmarks, ERROR with a 410 Status when
// the requested resourceVersion is compacted away), label and field selectors applied as
// the API server applies them (also to watch events: an object leaving the selection is
// DELETED, one entering it ADDED), GET of one object, and the watch-list form of a watch
// (sendInitialEvents: the current objects, then a BOOKMARK marking their end). Tests steer
// it: mutate objects, compact history, cut every watch mid-stream, stop and restart on the
// same port. Every request is recorded. `kproxy bench --kube-proxy` serves its cluster to
// an upstream kube-proxy with it (kube-api-main.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTLSServer } from 'node:https';
import type { Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string>; creationTimestamp?: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface Resource {
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  paths: RegExp; // list/watch path, with an optional namespace capture
  /** Field selectors this kind supports beyond metadata.name and metadata.namespace, as the API server's. */
  fields?: Record<string, (o: Obj) => string>;
}

const RESOURCES: Resource[] = [
  {
    kind: 'Service',
    apiVersion: 'v1',
    namespaced: true,
    paths: /^\/api\/v1\/(?:namespaces\/([^/]+)\/)?services$/,
    // kube-proxy lists Services with spec.clusterIP!=None (headless Services are DNS-only).
    fields: { 'spec.clusterIP': (o) => String((o.spec as { clusterIP?: string } | undefined)?.clusterIP ?? '') },
  },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', namespaced: true, paths: /^\/apis\/discovery\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/)?endpointslices$/ },
  { kind: 'Node', apiVersion: 'v1', namespaced: false, paths: /^\/api\/v1\/nodes$/ },
  // Watched by kube-proxy where the MultiCIDRServiceAllocator feature is on.
  { kind: 'ServiceCIDR', apiVersion: 'networking.k8s.io/v1', namespaced: false, paths: /^\/apis\/networking\.k8s\.io\/v1\/servicecidrs$/ },
  { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', namespaced: true, paths: /^\/apis\/coordination\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/)?leases$/ },
  // MetalLB's CRDs: served only when the server is told they are installed (opts.metallb).
  { kind: 'IPAddressPool', apiVersion: 'metallb.io/v1beta1', namespaced: true, paths: /^\/apis\/metallb\.io\/v1beta1\/(?:namespaces\/([^/]+)\/)?ipaddresspools$/ },
  { kind: 'L2Advertisement', apiVersion: 'metallb.io/v1beta1', namespaced: true, paths: /^\/apis\/metallb\.io\/v1beta1\/(?:namespaces\/([^/]+)\/)?l2advertisements$/ },
];

interface Event {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  old: Obj | null;
}

interface Watcher {
  kind: string;
  namespace: string | null;
  labels: Requirement[];
  fields: Requirement[];
  bookmarks: boolean;
  res: ServerResponse;
}

export interface RecordedRequest {
  path: string;
  authorization: string;
  query: Record<string, string>;
  watch: boolean;
}

export interface APIServerOptions {
  /** How many events per kind a watch can resume from before "too old" (410). */
  historyLimit?: number;
  /** Answer a too-old watch with an HTTP 410 instead of a 200 stream holding an ERROR event. */
  goneAsHTTPStatus?: boolean;
  /** Serve HTTPS with this key and certificate (PEM), as a real API server does. */
  tls?: { key: string; cert: string };
  /** MetalLB's CRDs are installed (metallb.io/v1beta1 is served). */
  metallb?: boolean;
}

export class TestAPIServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly objects = new Map<string, Map<string, Obj>>(); // kind → "ns/name" → object
  private readonly history = new Map<string, Event[]>();
  private readonly compactedRV = new Map<string, number>(); // events at or below are gone
  private watchers = new Set<Watcher>();
  private rv = 1000;
  private uid = 0;
  readonly requests: RecordedRequest[] = [];
  port = 0;
  /** Answers list requests in place of the store when it returns true (hostile-server tests). */
  listHook: ((kind: string, query: Record<string, string>, res: ServerResponse) => boolean) | null = null;

  constructor(private readonly opts: APIServerOptions = {}) {
    for (const r of RESOURCES) {
      this.objects.set(r.kind, new Map());
      this.history.set(r.kind, []);
      this.compactedRV.set(r.kind, this.rv);
    }
  }

  get url(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  async start(port = this.port): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const server: Server = this.opts.tls ? createTLSServer(this.opts.tls, handler) : createServer(handler);
    server.on(this.opts.tls ? 'secureConnection' : 'connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
  }

  /** Stops answering: every connection is dropped, as a crashed API server would. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    this.watchers.clear();
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise((r) => s.close(r));
  }

  /** Cuts every open watch connection mid-stream (TCP reset, no final chunk). */
  cutWatches(): number {
    const n = this.watchers.size;
    for (const w of this.watchers) w.res.socket?.destroy();
    this.watchers.clear();
    return n;
  }

  /** Forgets the event history: a watch resuming from an older resourceVersion gets 410 Gone. */
  compact(): void {
    for (const r of RESOURCES) {
      this.history.set(r.kind, []);
      this.compactedRV.set(r.kind, this.rv);
    }
  }

  /** Like compact(), also for a watcher that has seen every event: its next resume gets 410. */
  expire(): void {
    this.rv++;
    this.compact();
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that allows them. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (w.bookmarks) this.send(w, { type: 'BOOKMARK', object: { kind: w.kind, apiVersion: resourceOf(w.kind).apiVersion, metadata: { resourceVersion: String(this.rv) } } });
    }
  }

  /** Writes text as it is to every open watch of kind (malformed events, endless lines). */
  sendRaw(kind: string, text: string): number {
    let n = 0;
    for (const w of this.watchers) {
      if (w.kind !== kind) continue;
      w.res.write(text);
      n++;
    }
    return n;
  }

  watchCount(): number {
    return this.watchers.size;
  }

  // ---- object store ----------------------------------------------------------------------

  /**
   * Creates or replaces an object (kind and apiVersion required). Returns its new
   * resourceVersion. With cutMidEvent, every watch of that kind gets only the first half of
   * the event's JSON line before its connection is reset.
   */
  apply(o: Obj, opts: { cutMidEvent?: boolean } = {}): number {
    const r = resourceOf(String(o.kind));
    const store = this.objects.get(r.kind)!;
    const key = keyOf(r, o);
    const old = store.get(key) ?? null;
    const rv = ++this.rv;
    const stored: Obj = structuredClone(o);
    stored.apiVersion = r.apiVersion;
    stored.metadata.resourceVersion = String(rv);
    stored.metadata.uid = old?.metadata.uid ?? `uid-${++this.uid}`;
    stored.metadata.creationTimestamp = old?.metadata.creationTimestamp ?? '2026-01-01T00:00:00Z';
    if (r.namespaced) stored.metadata.namespace = o.metadata.namespace ?? 'default';
    store.set(key, stored);
    this.record(r.kind, { rv, type: old ? 'MODIFIED' : 'ADDED', object: stored, old }, opts.cutMidEvent);
    return rv;
  }

  remove(kind: string, namespace: string, name: string): boolean {
    const r = resourceOf(kind);
    const store = this.objects.get(r.kind)!;
    const key = r.namespaced ? `${namespace}/${name}` : name;
    const old = store.get(key);
    if (!old) return false;
    store.delete(key);
    const rv = ++this.rv;
    const tomb = structuredClone(old);
    tomb.metadata.resourceVersion = String(rv);
    this.record(r.kind, { rv, type: 'DELETED', object: tomb, old });
    return true;
  }

  get(kind: string, namespace: string, name: string): Obj | undefined {
    const r = resourceOf(kind);
    return this.objects.get(r.kind)!.get(r.namespaced ? `${namespace}/${name}` : name);
  }

  count(kind: string): number {
    return this.objects.get(resourceOf(kind).kind)!.size;
  }

  private record(kind: string, e: Event, cutMidEvent = false): void {
    const h = this.history.get(kind)!;
    h.push(e);
    const limit = this.opts.historyLimit ?? 50_000;
    if (h.length > limit) {
      const dropped = h.splice(0, h.length - limit);
      this.compactedRV.set(kind, dropped[dropped.length - 1].rv);
    }
    for (const w of this.watchers) {
      if (w.kind !== kind) continue;
      if (!cutMidEvent) {
        this.deliver(w, e);
        continue;
      }
      const line = JSON.stringify({ type: e.type, object: e.object });
      w.res.write(line.slice(0, line.length >> 1));
      this.watchers.delete(w);
      const sock = w.res.socket;
      setTimeout(() => sock?.destroy(), 20); // let the half line reach the client first
    }
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const watch = query.watch === 'true' || query.watch === '1';
    this.requests.push({ path: url.pathname, authorization: req.headers.authorization ?? '', query, watch });
    if (url.pathname.startsWith('/apis/metallb.io/') && !this.opts.metallb) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (url.pathname === '/apis/metallb.io/v1beta1')
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'metallb.io/v1beta1', resources: [] }));
    if (req.method !== 'GET' || /\/leases\/[^/]+$/.test(url.pathname)) return void this.write(req, res, url.pathname);
    const match = RESOURCES.map((r) => ({ r, m: r.paths.exec(url.pathname) })).find((x) => x.m);
    if (!match) return this.getOne(url.pathname, res);
    let labels: Requirement[];
    let fields: Requirement[];
    try {
      labels = parseSelector(query.labelSelector ?? '');
      fields = parseSelector(query.fieldSelector ?? '');
      for (const f of fields) if (!['metadata.name', 'metadata.namespace'].includes(f.key) && !match.r.fields?.[f.key]) throw new Error(`field label not supported: ${f.key}`);
    } catch (e) {
      return status(res, 400, 'BadRequest', (e as Error).message);
    }
    const namespace = match.m![1] ?? null;
    if (watch) this.watch(match.r, namespace, labels, fields, query, res);
    else this.list(match.r, namespace, labels, fields, query, res);
  }

  /**
   * The few writes kproxy makes: GET/PUT of one Lease (PUT needs the resourceVersion it read,
   * else 409 Conflict), POST of a new Lease, and a JSON merge patch of a Service's status.
   */
  private write(req: IncomingMessage, res: ServerResponse, path: string): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString()) as Obj) : null;
      const ok = (o: Obj | undefined) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(o));
      const lease = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(path);
      const svc = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)\/status$/.exec(path);
      if (lease) {
        const [, ns, name] = lease;
        const cur = name ? this.get('Lease', ns, name) : undefined;
        if (req.method === 'GET') return cur ? ok(cur) : status(res, 404, 'NotFound', `leases "${name}" not found`);
        if (req.method === 'POST' && body) {
          if (this.get('Lease', ns, body.metadata.name)) return status(res, 409, 'AlreadyExists', `leases "${body.metadata.name}" already exists`);
          this.apply({ ...body, kind: 'Lease', metadata: { ...body.metadata, namespace: ns } });
          return ok(this.get('Lease', ns, body.metadata.name));
        }
        if (req.method === 'PUT' && body && cur) {
          if (body.metadata.resourceVersion !== cur.metadata.resourceVersion)
            return status(res, 409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
          this.apply({ ...body, kind: 'Lease', metadata: { ...body.metadata, namespace: ns } });
          return ok(this.get('Lease', ns, name));
        }
      }
      if (svc && req.method === 'PATCH' && body && req.headers['content-type'] === 'application/merge-patch+json') {
        const cur = this.get('Service', svc[1], svc[2]);
        if (!cur) return status(res, 404, 'NotFound', `services "${svc[2]}" not found`);
        this.apply({ ...cur, kind: 'Service', status: { ...((cur.status as object) ?? {}), ...((body.status as object) ?? {}) } });
        return ok(this.get('Service', svc[1], svc[2]));
      }
      status(res, 405, 'MethodNotAllowed', `${req.method} ${path} is not supported here`);
    });
  }

  /** GET of one object by its path (…/NAME); 404 as the API server words it. */
  private getOne(path: string, res: ServerResponse): void {
    const i = path.lastIndexOf('/');
    const r = RESOURCES.map((x) => ({ x, m: x.paths.exec(path.slice(0, i)) })).find((y) => y.m);
    const name = decodeURIComponent(path.slice(i + 1));
    if (!r || (r.x.namespaced && !r.m![1])) return status(res, 404, 'NotFound', `the server could not find the requested resource (${path})`);
    const o = this.get(r.x.kind, r.m![1] ?? '', name);
    if (!o) return status(res, 404, 'NotFound', `${r.x.kind.toLowerCase()}s "${name}" not found`);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(o));
  }

  private selected(o: Obj, namespace: string | null, labels: Requirement[], fields: Requirement[]): boolean {
    if (namespace !== null && o.metadata.namespace !== namespace) return false;
    const l = o.metadata.labels ?? {};
    const f: Record<string, string> = { 'metadata.name': o.metadata.name, 'metadata.namespace': o.metadata.namespace ?? '' };
    for (const [key, value] of Object.entries(resourceOf(String(o.kind ?? '')).fields ?? {})) if (fields.some((q) => q.key === key)) f[key] = value(o);
    return labels.every((q) => matches(q, l)) && fields.every((q) => matches(q, f));
  }

  private list(r: Resource, namespace: string | null, labels: Requirement[], fields: Requirement[], query: Record<string, string>, res: ServerResponse): void {
    if (this.listHook?.(r.kind, query, res)) return;
    const all = [...this.objects.get(r.kind)!.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const items = all.map(([, o]) => o).filter((o) => this.selected(o, namespace, labels, fields));
    let offset = 0;
    let rv = this.rv;
    if (query.continue) {
      try {
        const t = JSON.parse(Buffer.from(query.continue, 'base64').toString()) as { rv: number; offset: number };
        if (t.rv < this.compactedRV.get(r.kind)!) {
          return status(res, 410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.');
        }
        offset = t.offset;
        rv = t.rv;
      } catch {
        return status(res, 400, 'BadRequest', 'invalid continue token');
      }
    }
    // resourceVersion=0 is answered from the watch cache in one piece, as the real server does.
    const limit = query.resourceVersion === '0' ? 0 : Number(query.limit ?? 0);
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const next = limit > 0 && offset + limit < items.length ? Buffer.from(JSON.stringify({ rv, offset: offset + limit })).toString('base64') : undefined;
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (next) metadata.continue = next;
    // List items carry no kind/apiVersion in the API's JSON.
    const body = JSON.stringify({ kind: `${r.kind}List`, apiVersion: r.apiVersion, metadata, items: page.map(({ kind, apiVersion, ...rest }) => rest) });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  }

  private watch(r: Resource, namespace: string | null, labels: Requirement[], fields: Requirement[], query: Record<string, string>, res: ServerResponse): void {
    // No resourceVersion (or "0"): the current objects as synthetic ADDED events, then live.
    const fromNow = !query.resourceVersion || query.resourceVersion === '0';
    const from = fromNow ? this.rv : Number(query.resourceVersion);
    const compacted = this.compactedRV.get(r.kind)!;
    const gone = !fromNow && (from < compacted || !Number.isFinite(from));
    if (gone && this.opts.goneAsHTTPStatus) return status(res, 410, 'Expired', `too old resource version: ${from} (${compacted})`);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders(); // as the API server does: the client knows the watch is on before any event
    if (gone) {
      res.end(JSON.stringify({ type: 'ERROR', object: statusObject(410, 'Expired', `too old resource version: ${from} (${compacted})`) }) + '\n');
      return;
    }
    const w: Watcher = { kind: r.kind, namespace, labels, fields, bookmarks: query.allowWatchBookmarks === 'true', res };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
    if (fromNow || query.sendInitialEvents === 'true') {
      for (const o of this.objects.get(r.kind)!.values()) this.deliver(w, { rv: this.rv, type: 'ADDED', object: o, old: null });
      // The watch-list form: a bookmark marks the end of the initial objects.
      if (query.sendInitialEvents === 'true')
        this.send(w, {
          type: 'BOOKMARK',
          object: { kind: r.kind, apiVersion: r.apiVersion, metadata: { resourceVersion: String(this.rv), annotations: { 'k8s.io/initial-events-end': 'true' } } },
        });
    } else for (const e of this.history.get(r.kind)!) if (e.rv > from) this.deliver(w, e);
    const timeout = Number(query.timeoutSeconds ?? 0);
    if (timeout > 0) {
      const t = setTimeout(() => {
        this.watchers.delete(w);
        res.end();
      }, timeout * 1000);
      res.on('close', () => clearTimeout(t));
    }
  }

  private deliver(w: Watcher, e: Event): void {
    const now = this.selected(e.object, w.namespace, w.labels, w.fields);
    const before = e.old !== null && this.selected(e.old, w.namespace, w.labels, w.fields);
    let type: string | null = null;
    if (e.type === 'DELETED') type = before ? 'DELETED' : null;
    else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED'; // left the selection
    if (type) this.send(w, { type, object: e.object });
  }

  private send(w: Watcher, event: unknown): void {
    w.res.write(JSON.stringify(event) + '\n');
  }
}

// ---- selectors (the label-selector grammar's common forms) ---------------------------------

interface Requirement {
  key: string;
  op: 'exists' | '!exists' | '=' | '!=';
  value: string;
}

export function parseSelector(s: string): Requirement[] {
  const out: Requirement[] = [];
  for (const raw of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^!([\w./-]+)$/.exec(raw))) out.push({ key: m[1], op: '!exists', value: '' });
    else if ((m = /^([\w./-]+)!=([\w.-]*)$/.exec(raw))) out.push({ key: m[1], op: '!=', value: m[2] });
    else if ((m = /^([\w./-]+)==?([\w.-]*)$/.exec(raw))) out.push({ key: m[1], op: '=', value: m[2] });
    else if ((m = /^([\w./-]+)$/.exec(raw))) out.push({ key: m[1], op: 'exists', value: '' });
    else throw new Error(`unable to parse requirement: "${raw}"`);
  }
  return out;
}

function matches(q: Requirement, values: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, q.key);
  switch (q.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case '=':
      return has && values[q.key] === q.value;
    case '!=':
      return !has || values[q.key] !== q.value;
  }
}

// ---- helpers -------------------------------------------------------------------------------

function resourceOf(kind: string): Resource {
  const r = RESOURCES.find((x) => x.kind === kind);
  if (!r) throw new Error(`test API server: unknown kind ${kind}`);
  return r;
}

function keyOf(r: Resource, o: Obj): string {
  return r.namespaced ? `${o.metadata.namespace ?? 'default'}/${o.metadata.name}` : o.metadata.name;
}

function statusObject(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(statusObject(code, reason, message)));
}

/**
 * A kubeconfig file pointing at the server with a bearer token; with caPEM the server's
 * certificate is verified against it, otherwise (plain HTTP) verification is off.
 */
export function writeKubeconfig(server: string, opts: { caPEM?: string; token?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-kubeconfig-'));
  const file = join(dir, 'kubeconfig');
  const trust = opts.caPEM ? `certificate-authority-data: ${Buffer.from(opts.caPEM).toString('base64')}` : 'insecure-skip-tls-verify: true';
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${server}
    ${trust}
users:
- name: test
  user:
    token: ${opts.token ?? 'test-token'}
contexts:
- name: test
  context: {cluster: test, user: test}
current-context: test
`,
  );
  return file;
}
