// Names outside the cluster domain, when --dns-upstream is given: the query is relayed to
// the upstream servers in turn (over the transport the client used) and the answer kept in
// a small cache for its TTL, capped at a minute.
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { splitHostPort } from '../util/net.js';
import type { ParsedQuery } from './query.js';

const TIMEOUT_MS = 2000;
const CACHE_ENTRIES = 2000;
const CACHE_MAX_SECONDS = 60;

interface Pending {
  resolve: (b: Buffer | null) => void;
  timer: NodeJS.Timeout;
  question: Buffer;
}

export class Forwarder {
  private readonly servers: { host: string; port: number }[];
  private readonly cache = new Map<string, { response: Buffer; expires: number }>();
  private readonly pending = new Map<number, Pending>();
  private sockets: { v4?: dgram.Socket; v6?: dgram.Socket } = {};
  private closed = false;

  constructor(upstreams: readonly string[]) {
    this.servers = upstreams.map((u) => splitHostPort(u));
  }

  /** The upstream's answer with the client's ID and question, or null when none answered. */
  async forward(msg: Buffer, q: ParsedQuery, tcp: boolean): Promise<Buffer | null> {
    const key = `${q.key}/${q.qtype}/${q.qclass}/${q.edns ? q.udpSize : 0}/${tcp ? 't' : 'u'}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return restamp(hit.response, msg, q);
    if (hit) this.cache.delete(key);
    for (const s of this.servers) {
      if (this.closed) return null;
      const r = tcp ? await this.viaTCP(msg, s) : await this.viaUDP(msg, q, s);
      if (!r) continue;
      const ttl = cacheSeconds(r);
      if (ttl > 0) {
        if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, { response: r, expires: Date.now() + ttl * 1000 });
      }
      return restamp(r, msg, q);
    }
    return null;
  }

  private socket(host: string): dgram.Socket {
    const v6 = host.includes(':');
    const existing = v6 ? this.sockets.v6 : this.sockets.v4;
    if (existing) return existing;
    const s = dgram.createSocket(v6 ? 'udp6' : 'udp4');
    s.on('message', (m) => this.onUpstreamMessage(m));
    s.on('error', () => {});
    s.unref();
    if (v6) this.sockets.v6 = s;
    else this.sockets.v4 = s;
    return s;
  }

  private onUpstreamMessage(m: Buffer): void {
    if (m.length < 12) return;
    const id = m.readUInt16BE(0);
    const p = this.pending.get(id);
    if (!p) return;
    // Accept only an answer to the question asked (a stray or spoofed packet is ignored).
    if (m.length < 12 + p.question.length || !m.subarray(12, 12 + p.question.length).equals(p.question)) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(m);
  }

  private viaUDP(msg: Buffer, q: ParsedQuery, s: { host: string; port: number }): Promise<Buffer | null> {
    let id = randomInt(0, 65536);
    for (let i = 0; this.pending.has(id) && i < 16; i++) id = randomInt(0, 65536);
    if (this.pending.has(id)) return Promise.resolve(null);
    const out = Buffer.from(msg);
    out.writeUInt16BE(id, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, TIMEOUT_MS);
      this.pending.set(id, { resolve, timer, question: msg.subarray(12, q.questionEnd) });
      this.socket(s.host).send(out, s.port, s.host, (err) => {
        if (!err) return;
        this.pending.delete(id);
        clearTimeout(timer);
        resolve(null);
      });
    });
  }

  private viaTCP(msg: Buffer, s: { host: string; port: number }): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const sock = net.connect(s.port, s.host);
      let buf = Buffer.alloc(0);
      const done = (r: Buffer | null) => {
        sock.destroy();
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => done(null), TIMEOUT_MS);
      sock.on('error', () => done(null));
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        sock.write(Buffer.concat([len, msg]));
      });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
      sock.on('end', () => done(null));
    });
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve(null);
    }
    this.pending.clear();
    this.sockets.v4?.close();
    this.sockets.v6?.close();
    this.sockets = {};
  }
}

/** The cached answer with this client's ID and the question as the client wrote it. */
function restamp(r: Buffer, msg: Buffer, q: ParsedQuery): Buffer {
  const out = Buffer.from(r);
  out.writeUInt16BE(q.id, 0);
  if (out.length >= q.questionEnd) msg.copy(out, 12, 12, q.questionEnd);
  return out;
}

/** How long an upstream answer may be cached: its smallest TTL (negative: the SOA's), 0 = not at all. */
function cacheSeconds(r: Buffer): number {
  try {
    const p = dnsPacket.decode(r);
    const flags = p.flags ?? 0;
    if (flags & 0x0200) return 0; // truncated
    if ((flags & 15) !== 0 && (flags & 15) !== 3) return 0; // only NOERROR and NXDOMAIN are kept
    const ttls = [...(p.answers ?? []), ...(p.authorities ?? [])].map((a) => {
      const d = a as { type: string; ttl?: number; data?: { minimum?: number } };
      return d.type === 'SOA' ? Math.min(d.ttl ?? 0, d.data?.minimum ?? 0) : (d.ttl ?? 0);
    });
    if (ttls.length === 0) return 0;
    return Math.min(CACHE_MAX_SECONDS, ...ttls);
  } catch {
    return 0;
  }
}
